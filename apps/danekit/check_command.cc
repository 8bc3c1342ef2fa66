// danekit check DOMAIN...
#include <unistd.h>

#include <fmt/format.h>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "commands.h"
#include "danekit/check.h"
#include "danekit/dns.h"
#include "danekit/dnssec_audit.h"
#include "danekit/report.h"

namespace danekit::cli {

namespace {

// With several domains the worst result decides: a definite DANE problem ranks
// above "could not determine", which ranks above "no DANE".
int combine(int a, int b) {
  auto rank = [](int s) {
    switch (s) {
      case exit_status::valid: return 0;
      case exit_status::no_dane: return 1;
      case exit_status::undetermined: return 2;
      default: return 3;
    }
  };
  return rank(b) > rank(a) ? b : a;
}

// A bogus MX, address or TLSA answer: the per-nameserver audit says which
// server serves what (danekit dnssec). Its errors and warnings go into the
// report; when the audit itself cannot run, the report stays as it was.
void add_dnssec_summary(CheckReport& r, const CheckOptions& opt) {
  bool bogus = false;
  auto is_bogus = [](const Reason& x) {
    return x.code == "mx-bogus" || x.code == "address-bogus" || x.code == "tlsa-bogus";
  };
  for (const auto& x : r.reasons) bogus |= is_bogus(x);
  for (const auto& m : r.mx)
    for (const auto& x : m.reasons) bogus |= is_bogus(x);
  if (!bogus) return;
  DnssecCollectOptions d;
  d.resolver = opt.resolver;
  d.deadline = std::min(d.deadline, opt.timeout);
  d.query_timeout = std::min(d.query_timeout, d.deadline);
  DnssecRun run = run_dnssec_audit(r.domain, d, r.checked_at);
  if (!run.error.empty()) return;
  std::vector<DnssecFinding> findings;
  for (const auto& f : run.report.findings)
    if (f.severity != Severity::info) findings.push_back(f);
  r.dnssec = std::move(findings);
}

struct CheckArgs {
  std::vector<std::string> domains;
  CheckFlags flags;
  std::string color = "auto";
  bool json = false;
};

int run_check(const CheckArgs& a) {
  std::vector<std::string> names;
  for (const auto& d : a.domains) {
    auto n = normalize_mail_domain(d);
    if (!n) return usage_error(n.error());
    names.push_back(*n);
  }
  if (auto e = check_flags_error(a.flags); !e.empty()) return usage_error(e);
  if (a.color != "auto" && a.color != "always" && a.color != "never")
    return usage_error("--color must be auto, always or never");
  if (auto e = policy_flags_error(a.flags); !e.empty()) return usage_error(e);
  CheckOptions opt = check_options(a.flags);

  std::vector<CheckReport> reports;
  try {
    reports = run_checks(names, opt);
  } catch (const ResolverError& e) {
    return usage_error(e.what());
  }
  for (auto& r : reports) add_dnssec_summary(r, opt);

  bool color = a.color == "always" || (a.color == "auto" && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
  int status = exit_status::valid;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (a.json) {
      fmt::print("{}\n", to_json(reports[i]));
    } else {
      if (i > 0) fmt::print("\n");
      fmt::print("{}", render_text(reports[i], {color}));
    }
    status = combine(status, exit_status_for(reports[i]));
  }
  std::fflush(stdout);
  return status;
}

}  // namespace

void add_check_flags(CLI::App& cmd, CheckFlags& flags) {
  add_resolver_flags(cmd, flags.resolver);
  auto* f4 = cmd.add_flag("-4", flags.only4, "IPv4 only");
  auto* f6 = cmd.add_flag("-6", flags.only6, "IPv6 only");
  f4->excludes(f6);
  cmd.add_option("--helo", flags.helo, "Name sent in EHLO");
  cmd.add_option("--timeout", flags.timeout, "Seconds for the whole check of one domain (1-600)");
  cmd.add_option("--days", flags.days, "Warn when a DANE-TA chain expires within N days (0-3650)");
  cmd.add_option("--insecure-mx-policy", flags.insecure_mx,
                 "How a sender treats secure TLSA behind an insecure MX RRset: dane or may (Postfix "
                 "smtp_tls_dane_insecure_mx_policy)");
  cmd.add_flag("--allow-special-addresses", flags.allow_special,
               "Do not flag MX addresses in IANA special-purpose ranges (loopback, private use, ...): for labs "
               "and intranets");
  cmd.add_flag("--other-certificate,!--no-other-certificate", flags.other_cert,
               "Ask each DANE address again offering only the other key type's signature algorithms, for a "
               "second certificate (default: on for check, off for scan)");
  cmd.add_option("--port", flags.port, "SMTP port (testing only; DANE for SMTP is port 25)")->group("");
}

std::string check_flags_error(const CheckFlags& f) {
  auto h = normalize_domain(f.helo);
  if (!h) return "--helo: " + h.error();
  if (!(f.timeout >= 1 && f.timeout <= 600)) return "--timeout must be between 1 and 600 seconds";
  if (f.days < 0 || f.days > 3650) return "--days must be between 0 and 3650";
  if (f.port < 1 || f.port > 65535) return "--port must be between 1 and 65535";
  return {};
}

std::string policy_flags_error(const CheckFlags& f) {
  if (f.insecure_mx != "dane" && f.insecure_mx != "may") return "--insecure-mx-policy must be dane or may";
  return {};
}

CheckOptions check_options(const CheckFlags& f) {
  CheckOptions opt;
  opt.resolver.trust_anchor_file = f.resolver.trust_anchor;
  opt.resolver.root_hints_file = f.resolver.root_hints;
  opt.resolver.forwarder = f.resolver.forwarder;
  opt.helo = normalize_domain(f.helo).value_or(f.helo);
  opt.port = static_cast<std::uint16_t>(f.port);
  opt.timeout = std::chrono::milliseconds(static_cast<long>(f.timeout * 1000));
  opt.connect_timeout = std::min(opt.connect_timeout, opt.timeout);
  opt.command_timeout = std::min(opt.command_timeout, opt.timeout);
  opt.dns_timeout = std::min(opt.dns_timeout, opt.timeout);
  opt.policy.warn_days = f.days;
  opt.policy.flag_special_addresses = !f.allow_special;
  opt.other_certificate = f.other_cert;
  opt.policy.ipv4 = !f.only6;
  opt.policy.ipv6 = !f.only4;
  opt.policy.insecure_mx = f.insecure_mx == "may" ? InsecureMxPolicy::may : InsecureMxPolicy::dane;
  return opt;
}

void add_check_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<CheckArgs>();
  auto* check = app.add_subcommand("check", "The RFC 7672 verdict for mail domains, as a DANE sender reaches it");
  check->add_option("domain", args->domains, "Mail domain(s) to check (U-labels are converted)")->required();
  check->add_flag("--json", args->json, "One JSON object per domain (schema danekit.check/1)");
  add_check_flags(*check, args->flags);
  check->add_option("--color", args->color, "auto, always or never");
  check->callback([args, &action] { action = [args] { return run_check(*args); }; });
}

}  // namespace danekit::cli
