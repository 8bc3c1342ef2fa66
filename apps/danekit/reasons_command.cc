// danekit reasons [CODE]: the reason-code catalog (docs/reasons.md), so a code
// in a report can be looked up where it was seen.
#include <fmt/format.h>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "policy/reason_catalog.h"

namespace danekit::cli {

namespace {

struct ReasonsArgs {
  std::string code;
  std::string format = "text";
  bool json = false;
};

nlohmann::json to_json(const ReasonInfo& r) {
  return {{"code", r.code}, {"group", r.group},     {"severity", r.severity},
          {"rfc", r.rfc},   {"meaning", r.meaning}, {"fix", r.fix}};
}

int run_reasons(const ReasonsArgs& a) {
  std::string format = a.json ? "json" : a.format;
  if (format != "text" && format != "json" && format != "markdown")
    return usage_error(fmt::format("--format must be text, json or markdown, not '{}'", a.format));
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
    nlohmann::json out{{"schema", "danekit.reasons/1"}, {"reasons", nlohmann::json::array()}};
    for (const auto* r : rows) out["reasons"].push_back(to_json(*r));
    fmt::print("{}\n", out.dump());
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
  cmd->add_option("--format", a->format, "text, json or markdown (the tables of docs/reasons.md)")
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "Same as --format json");
  cmd->callback([a, &action] { action = [a] { return run_reasons(*a); }; });
}

}  // namespace danekit::cli
