// danekit: the command-line front end. It alone parses argv, prints, and picks
// exit codes (docs/cli.md); all work happens in the library.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>
#include <string>
#include <vector>

#include "danekit/check.h"
#include "danekit/dns.h"
#include "danekit/report.h"

namespace {

int usage_error(const std::string& message) {
  fmt::print(stderr, "danekit: {}\n", message);
  return danekit::exit_status::usage;
}

// With several domains the worst result decides: a definite DANE problem ranks
// above "could not determine", which ranks above "no DANE".
int combine(int a, int b) {
  auto rank = [](int s) {
    switch (s) {
      case danekit::exit_status::valid: return 0;
      case danekit::exit_status::no_dane: return 1;
      case danekit::exit_status::undetermined: return 2;
      default: return 3;
    }
  };
  return rank(b) > rank(a) ? b : a;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"danekit: DANE for SMTP (RFC 7672) checker", "danekit"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "danekit 0.1.0");

  auto* check = app.add_subcommand("check", "The RFC 7672 verdict for mail domains, as a DANE sender reaches it");
  std::vector<std::string> domains;
  std::string trust_anchor, root_hints, forwarder, helo = "danekit.invalid", color = "auto", insecure_mx = "dane";
  bool json = false, only4 = false, only6 = false;
  double timeout = 30;
  int days = 0;
  int port = 25;
  check->add_option("domain", domains, "Mail domain(s) to check (U-labels are converted)")->required();
  check->add_flag("--json", json, "One JSON object per domain (schema danekit.check/1)");
  check->add_option("--trust-anchor", trust_anchor, "DS/DNSKEY records (zone-file format) replacing the root KSKs");
  check->add_option("--root-hints", root_hints, "Root hints (zone-file format) replacing the built-in ones");
  check->add_option("--resolver", forwarder, "Send queries to this resolver, ADDR[@PORT]; answers are still "
                                             "validated locally");
  auto* f4 = check->add_flag("-4", only4, "IPv4 only");
  auto* f6 = check->add_flag("-6", only6, "IPv6 only");
  f4->excludes(f6);
  check->add_option("--helo", helo, "Name sent in EHLO");
  check->add_option("--timeout", timeout, "Seconds for the whole check of one domain (1-600)");
  check->add_option("--days", days, "Warn when a DANE-TA chain expires within N days (0-3650)");
  check->add_option("--insecure-mx-policy", insecure_mx,
                    "How a sender treats secure TLSA behind an insecure MX RRset: dane or may (Postfix "
                    "smtp_tls_dane_insecure_mx_policy)");
  check->add_option("--color", color, "auto, always or never");
  check->add_option("--port", port, "SMTP port (testing only; DANE for SMTP is port 25)")->group("");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    return usage_error(msg + " (see danekit --help)");
  }

  danekit::CheckOptions opt;
  std::vector<std::string> names;
  for (const auto& d : domains) {
    auto n = danekit::normalize_domain(d);
    if (!n) return usage_error(n.error());
    names.push_back(*n);
  }
  auto h = danekit::normalize_domain(helo);
  if (!h) return usage_error("--helo: " + h.error());
  if (!(timeout >= 1 && timeout <= 600)) return usage_error("--timeout must be between 1 and 600 seconds");
  if (days < 0 || days > 3650) return usage_error("--days must be between 0 and 3650");
  if (port < 1 || port > 65535) return usage_error("--port must be between 1 and 65535");
  if (color != "auto" && color != "always" && color != "never")
    return usage_error("--color must be auto, always or never");
  if (insecure_mx != "dane" && insecure_mx != "may") return usage_error("--insecure-mx-policy must be dane or may");

  opt.resolver.trust_anchor_file = trust_anchor;
  opt.resolver.root_hints_file = root_hints;
  opt.resolver.forwarder = forwarder;
  opt.helo = *h;
  opt.port = static_cast<std::uint16_t>(port);
  opt.timeout = std::chrono::milliseconds(static_cast<long>(timeout * 1000));
  opt.connect_timeout = std::min(opt.connect_timeout, opt.timeout);
  opt.command_timeout = std::min(opt.command_timeout, opt.timeout);
  opt.dns_timeout = std::min(opt.dns_timeout, opt.timeout);
  opt.policy.warn_days = days;
  opt.policy.ipv4 = !only6;
  opt.policy.ipv6 = !only4;
  opt.policy.insecure_mx = insecure_mx == "may" ? danekit::InsecureMxPolicy::may : danekit::InsecureMxPolicy::dane;

  std::vector<danekit::CheckReport> reports;
  try {
    reports = danekit::run_checks(names, opt);
  } catch (const danekit::ResolverError& e) {
    return usage_error(e.what());
  } catch (const std::exception& e) {
    fmt::print(stderr, "danekit: internal error: {}\n", e.what());
    return danekit::exit_status::internal;
  }

  bool use_color = color == "always" || (color == "auto" && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
  int status = danekit::exit_status::valid;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (json) {
      fmt::print("{}\n", danekit::to_json(reports[i]));
    } else {
      if (i > 0) fmt::print("\n");
      fmt::print("{}", danekit::render_text(reports[i], {use_color}));
    }
    status = combine(status, danekit::exit_status_for(reports[i]));
  }
  std::fflush(stdout);
  return status;
}
