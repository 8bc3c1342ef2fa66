// danekit check DOMAIN...
#include <unistd.h>

#include <fmt/format.h>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "commands.h"
#include "danekit/check.h"
#include "danekit/dns.h"
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

struct CheckArgs {
  std::vector<std::string> domains;
  ResolverFlags resolver;
  std::string helo = "danekit.invalid", color = "auto", insecure_mx = "dane";
  bool json = false, only4 = false, only6 = false;
  double timeout = 30;
  int days = 0;
  int port = 25;
};

int run_check(const CheckArgs& a) {
  CheckOptions opt;
  std::vector<std::string> names;
  for (const auto& d : a.domains) {
    auto n = normalize_domain(d);
    if (!n) return usage_error(n.error());
    names.push_back(*n);
  }
  auto h = normalize_domain(a.helo);
  if (!h) return usage_error("--helo: " + h.error());
  if (!(a.timeout >= 1 && a.timeout <= 600)) return usage_error("--timeout must be between 1 and 600 seconds");
  if (a.days < 0 || a.days > 3650) return usage_error("--days must be between 0 and 3650");
  if (a.port < 1 || a.port > 65535) return usage_error("--port must be between 1 and 65535");
  if (a.color != "auto" && a.color != "always" && a.color != "never")
    return usage_error("--color must be auto, always or never");
  if (a.insecure_mx != "dane" && a.insecure_mx != "may") return usage_error("--insecure-mx-policy must be dane or may");

  opt.resolver.trust_anchor_file = a.resolver.trust_anchor;
  opt.resolver.root_hints_file = a.resolver.root_hints;
  opt.resolver.forwarder = a.resolver.forwarder;
  opt.helo = *h;
  opt.port = static_cast<std::uint16_t>(a.port);
  opt.timeout = std::chrono::milliseconds(static_cast<long>(a.timeout * 1000));
  opt.connect_timeout = std::min(opt.connect_timeout, opt.timeout);
  opt.command_timeout = std::min(opt.command_timeout, opt.timeout);
  opt.dns_timeout = std::min(opt.dns_timeout, opt.timeout);
  opt.policy.warn_days = a.days;
  opt.policy.ipv4 = !a.only6;
  opt.policy.ipv6 = !a.only4;
  opt.policy.insecure_mx = a.insecure_mx == "may" ? InsecureMxPolicy::may : InsecureMxPolicy::dane;

  std::vector<CheckReport> reports;
  try {
    reports = run_checks(names, opt);
  } catch (const ResolverError& e) {
    return usage_error(e.what());
  }

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

void add_check_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<CheckArgs>();
  auto* check = app.add_subcommand("check", "The RFC 7672 verdict for mail domains, as a DANE sender reaches it");
  check->add_option("domain", args->domains, "Mail domain(s) to check (U-labels are converted)")->required();
  check->add_flag("--json", args->json, "One JSON object per domain (schema danekit.check/1)");
  add_resolver_flags(*check, args->resolver);
  auto* f4 = check->add_flag("-4", args->only4, "IPv4 only");
  auto* f6 = check->add_flag("-6", args->only6, "IPv6 only");
  f4->excludes(f6);
  check->add_option("--helo", args->helo, "Name sent in EHLO");
  check->add_option("--timeout", args->timeout, "Seconds for the whole check of one domain (1-600)");
  check->add_option("--days", args->days, "Warn when a DANE-TA chain expires within N days (0-3650)");
  check->add_option("--insecure-mx-policy", args->insecure_mx,
                    "How a sender treats secure TLSA behind an insecure MX RRset: dane or may (Postfix "
                    "smtp_tls_dane_insecure_mx_policy)");
  check->add_option("--color", args->color, "auto, always or never");
  check->add_option("--port", args->port, "SMTP port (testing only; DANE for SMTP is port 25)")->group("");
  check->callback([args, &action] { action = [args] { return run_check(*args); }; });
}

}  // namespace danekit::cli
