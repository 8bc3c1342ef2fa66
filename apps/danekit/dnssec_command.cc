// danekit dnssec DOMAIN: the per-nameserver DNSSEC audit (docs/cli.md).
#include <fmt/format.h>
#include <chrono>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "danekit/dns.h"
#include "danekit/dnssec_audit.h"
#include "danekit/report.h"
#include "util/hex.h"

namespace danekit::cli {

namespace {

struct DnssecArgs {
  std::string domain;
  ResolverFlags resolver;
  FormatFlags format{"text"};
  int warn_days = 3;
  double timeout = 60;
};

// The verification time: the front end reads the clock, the audit never does.
std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int run_dnssec(const DnssecArgs& a) {
  auto domain = normalize_mail_domain(a.domain);
  if (!domain) return usage_error(domain.error());
  std::string format_error;
  auto format = chosen_format(a.format, {"text", "json"}, format_error);
  if (!format_error.empty()) return usage_error(format_error);
  if (a.warn_days < 0 || a.warn_days > 365) return usage_error("--warn-days must be between 0 and 365");
  if (!(a.timeout >= 1 && a.timeout <= 600)) return usage_error("--timeout must be between 1 and 600 seconds");
  DnssecCollectOptions opt;
  opt.resolver.trust_anchor_file = a.resolver.trust_anchor;
  opt.resolver.root_hints_file = a.resolver.root_hints;
  opt.resolver.forwarder = a.resolver.forwarder;
  opt.warn_days = a.warn_days;
  opt.deadline = std::chrono::milliseconds(static_cast<long>(a.timeout * 1000));
  opt.query_timeout = std::min(opt.query_timeout, opt.deadline);
  DnssecRun run;
  try {
    run = run_dnssec_audit(*domain, opt, now_seconds());
  } catch (const ResolverError& e) {
    return usage_error(e.what());
  }
  if (!run.error.empty()) {
    // Our side (network, resolver, descriptors): nothing to say about the domain.
    fmt::print(stderr, "danekit: could not audit {}: {}\n", *domain, sanitize_for_display(run.error));
    return exit_status::undetermined;
  }
  if (format == "json")
    fmt::print("{}\n", to_json(run.report));
  else
    fmt::print("{}", render_text(run.report));
  std::fflush(stdout);
  return has_errors(run.report) ? exit_status::dane_problem : exit_status::valid;
}

}  // namespace

void add_dnssec_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<DnssecArgs>();
  auto* cmd = app.add_subcommand(
      "dnssec", "Audit DNSSEC on every authoritative server of a mail domain's, its MX hosts' and TLSA zones");
  cmd->add_option("domain", args->domain, "Mail domain")->required();
  add_format_flags(*cmd, args->format, "text or json (schema danekit.dnssec/1)");
  cmd->add_option("--warn-days", args->warn_days, "Warn when signatures expire within N days (0-365)");
  cmd->add_option("--timeout", args->timeout, "Seconds for the whole audit (1-600)");
  add_resolver_flags(*cmd, args->resolver);
  cmd->callback([args, &action] { action = [args] { return run_dnssec(*args); }; });
}

}  // namespace danekit::cli
