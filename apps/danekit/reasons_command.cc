// danekit reasons [CODE]: the reason-code catalog (docs/reasons.md), so a code
// in a report can be looked up where it was seen.
#include <fmt/format.h>
#include <cstdio>

#include "commands.h"
#include "policy/reason_catalog.h"
#include "report/writers.h"

namespace danekit::cli {

namespace {

struct ReasonsArgs {
  std::string code;
  FormatFlags format{"text"};
};

int run_reasons(const ReasonsArgs& a) {
  std::string format_error;
  auto format = chosen_format(a.format, {"text", "json", "markdown"}, format_error);
  if (!format_error.empty()) return usage_error(format_error);
  std::vector<const ReasonInfo*> rows;
  if (!a.code.empty()) {
    const auto* r = find_reason(a.code);
    if (!r) return usage_error(fmt::format("no reason code '{}' (danekit reasons lists them)", a.code));
    rows.push_back(r);
  } else {
    for (const auto& r : reason_catalog()) rows.push_back(&r);
  }
  if (format == "markdown") {
    if (!a.code.empty()) return usage_error("--format markdown prints whole tables; leave out the code");
    fmt::print("## Check\n\n{}\n## danekit's own trouble\n\n{}", reason_table_markdown("check"),
               reason_table_markdown("local"));
    fmt::print("\n## MTA-STS and TLS-RPT\n\n{}", reason_table_markdown("mta-sts"));
    return 0;
  }
  if (format == "json") {
    fmt::print("{}\n", report::reasons_json(rows));
    return 0;
  }
  for (const auto* r : rows) {
    fmt::print("{} [{}]{}\n  {}\n", r->code, r->severity, r->rfc.empty() ? "" : fmt::format(" {}", r->rfc), r->meaning);
    if (!r->fix.empty()) fmt::print("  fix: {}\n", r->fix);
  }
  return 0;
}

}  // namespace

void add_reasons_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<ReasonsArgs>();
  auto* cmd = app.add_subcommand("reasons", "Explain the reason codes reports carry (all of them, or one)");
  cmd->add_option("code", a->code, "A reason code, e.g. dane-mismatch");
  add_format_flags(*cmd, a->format,
                   "text, json (schema danekit.reasons/1) or markdown (the tables of docs/reasons.md)");
  cmd->callback([a, &action] { action = [a] { return run_reasons(*a); }; });
}

}  // namespace danekit::cli
