// danekit check DOMAIN...
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "commands.h"
#include "danekit/check.h"
#include "danekit/dns.h"
#include "danekit/dnssec_audit.h"
#include "danekit/monitoring.h"
#include "danekit/pkix.h"
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
  std::string format;  // text | json | prometheus; empty: not given (text, or json with --json)
  bool nagios = false;
  int warn_days = NagiosOptions{}.warn_days;
  int crit_days = NagiosOptions{}.crit_days;
  bool expect_dane = false;
  std::string width = "auto";  // --width: auto, or columns (0: no wrapping)
  bool verbose = false;
};

// The text report's width: --width when given (0: no wrapping), else the
// terminal's when stdout is one, else COLUMNS, else 80 on a terminal and no
// wrapping into a pipe or file. A terminal size or COLUMNS outside 20-1000 is
// ignored.
int text_width(const CheckArgs& a) {
  if (a.width != "auto") return std::stoi(a.width);  // checked by monitoring_flags_error
  const bool tty = isatty(STDOUT_FILENO) != 0;
  auto sane = [](long n) { return n >= 20 && n <= 1000; };
  winsize ws{};
  if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && sane(ws.ws_col)) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS"); c && *c) {
    char* end = nullptr;
    long n = std::strtol(c, &end, 10);
    if (*end == '\0' && sane(n)) return static_cast<int>(n);
  }
  return tty ? 80 : 0;
}

// Under --nagios a usage error is the plugin status UNKNOWN: the status line
// on stdout (what the monitoring system shows) and the usual one line on
// stderr (what a person at a terminal reads).
int nagios_usage_error(const std::string& message) {
  fmt::print("{}\n", nagios_unknown_line(message));
  std::fflush(stdout);
  usage_error(message);
  return plugin_status::unknown;
}

// The first fault in the format and monitoring options; empty when none.
std::string monitoring_flags_error(const CheckArgs& a) {
  if (!a.format.empty() && a.format != "text" && a.format != "json" && a.format != "prometheus")
    return "--format must be text, json or prometheus";
  if (a.json && !a.format.empty() && a.format != "json") return "--json conflicts with --format " + a.format;
  if (a.nagios) {
    if (a.json || !a.format.empty()) return "--nagios prints the plugin status line and takes no --format or --json";
    if (a.domains.size() != 1) return "--nagios checks exactly one domain";
  }
  if (a.warn_days < 0 || a.warn_days > 3650) return "--warn-days must be between 0 and 3650";
  if (a.crit_days < 0 || a.crit_days > 3650) return "--crit-days must be between 0 and 3650";
  if (a.crit_days > a.warn_days) return "--crit-days must not be greater than --warn-days";
  if (a.width != "auto") {
    int n = -1;
    auto [end, ec] = std::from_chars(a.width.data(), a.width.data() + a.width.size(), n);
    if (ec != std::errc() || end != a.width.data() + a.width.size() || (n != 0 && (n < 20 || n > 1000)))
      return "--width must be auto, 0 (no wrapping) or between 20 and 1000";
  }
  if ((a.width != "auto" || a.verbose) && (a.nagios || a.json || (!a.format.empty() && a.format != "text")))
    return "--width and --verbose go with the text report";
  if (!a.nagios &&
      (a.expect_dane || a.warn_days != NagiosOptions{}.warn_days || a.crit_days != NagiosOptions{}.crit_days))
    return "--warn-days, --crit-days and --expect-dane go with --nagios";
  return {};
}

int run_check_checked(const CheckArgs& a) {
  auto fail = a.nagios ? nagios_usage_error : usage_error;
  if (auto e = monitoring_flags_error(a); !e.empty()) return fail(e);
  std::vector<std::string> names;
  for (const auto& d : a.domains) {
    auto n = normalize_mail_domain(d);
    if (!n) return fail(n.error());
    names.push_back(*n);
  }
  if (auto e = check_flags_error(a.flags); !e.empty()) return fail(e);
  if (a.color != "auto" && a.color != "always" && a.color != "never")
    return fail("--color must be auto, always or never");
  if (auto e = policy_flags_error(a.flags); !e.empty()) return fail(e);
  CheckOptions opt = check_options(a.flags);

  std::vector<CheckReport> reports;
  try {
    reports = run_checks(names, opt);
  } catch (const ResolverError& e) {
    return fail(e.what());
  }
  for (auto& r : reports) add_dnssec_summary(r, opt);

  if (a.nagios) {
    NagiosResult n = to_nagios(reports.at(0), {a.warn_days, a.crit_days, a.expect_dane});
    fmt::print("{}\n", n.line);
    std::fflush(stdout);
    return n.status;
  }
  std::string format = !a.format.empty() ? a.format : a.json ? "json" : "text";
  bool color = a.color == "always" || (a.color == "auto" && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
  int status = exit_status::valid;
  if (format == "prometheus") fmt::print("{}", to_prometheus(reports));
  // Several text reports share one legend and end with the summary line.
  TextStyle style{color, format == "text" ? text_width(a) : 0, a.verbose, reports.size() == 1};
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (format == "json") {
      fmt::print("{}\n", to_json(reports[i]));
    } else if (format == "text") {
      if (i > 0) fmt::print("\n");
      fmt::print("{}", render_text(reports[i], style));
    }
    status = combine(status, exit_status_for(reports[i]));
  }
  if (format == "text" && reports.size() > 1) fmt::print("\n{}", render_summary(reports, status, style));
  std::fflush(stdout);
  return status;
}

int run_check(const CheckArgs& a) {
  if (!a.nagios) return run_check_checked(a);
  // A plugin's status is never main's internal-error 70: UNKNOWN.
  try {
    return run_check_checked(a);
  } catch (const std::exception& e) {
    fmt::print("{}\n", nagios_unknown_line(std::string("internal error: ") + e.what()));
    std::fflush(stdout);
    fmt::print(stderr, "danekit: internal error: {}\n", e.what());
    return plugin_status::unknown;
  }
}

}  // namespace

int check_parse_error(int argc, char** argv, const std::string& message) {
  // Only `danekit check ... --nagios ...`: the first word after the program
  // (global options come alone) is the subcommand.
  if (argc < 2 || std::string_view(argv[1]) != "check") return -1;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--nagios") return nagios_usage_error(message);
  }
  return -1;
}

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
  cmd.add_flag("--mta-sts,!--no-mta-sts", flags.mta_sts,
               "Also look up MTA-STS and TLS-RPT, fetch the policy and judge every MX certificate under the Web "
               "PKI (RFC 8461, RFC 8460; default: on)");
  cmd.add_option("--ca-file", flags.ca_file,
                 "PEM file of CAs trusted beside the system store for the MTA-STS policy host and MX certificates "
                 "(a private web CA)");
  cmd.add_option("--port", flags.port, "SMTP port (testing only; DANE for SMTP is port 25)")->group("");
}

std::string check_flags_error(const CheckFlags& f) {
  auto h = normalize_domain(f.helo);
  if (!h) return "--helo: " + h.error();
  if (!(f.timeout >= 1 && f.timeout <= 600)) return "--timeout must be between 1 and 600 seconds";
  if (f.days < 0 || f.days > 3650) return "--days must be between 0 and 3650";
  if (f.port < 1 || f.port > 65535) return "--port must be between 1 and 65535";
  if (!f.ca_file.empty()) {
    if (!f.mta_sts) return "--ca-file goes with MTA-STS checks; drop --no-mta-sts";
    auto trust = PkixTrust::load(f.ca_file);
    if (!trust) return "--ca-file: " + trust.error();
  }
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
  opt.mta_sts = f.mta_sts;
  opt.ca_file = f.ca_file;
  opt.policy.ipv4 = !f.only6;
  opt.policy.ipv6 = !f.only4;
  opt.policy.insecure_mx = f.insecure_mx == "may" ? InsecureMxPolicy::may : InsecureMxPolicy::dane;
  return opt;
}

void add_check_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<CheckArgs>();
  auto* check = app.add_subcommand("check", "The RFC 7672 verdict for mail domains, as a DANE sender reaches it");
  check->add_option("domain", args->domains, "Mail domain(s) to check (U-labels are converted)")->required();
  check->add_flag("--json", args->json, "One JSON object per domain (schema danekit.check/1); --format json");
  check->add_option("--format", args->format,
                    "text, json (one danekit.check/1 object per line) or prometheus (text format for "
                    "node_exporter's textfile collector) (default: text)");
  check->add_flag("--nagios", args->nagios,
                  "Monitoring plugin: one status line DANE OK|WARNING|CRITICAL|UNKNOWN with performance data, "
                  "exit 0-3 (one domain; docs/cli.md)");
  check->add_option("--warn-days", args->warn_days,
                    "--nagios: WARNING when a DANE-TA chain certificate expires within N days (0-3650, default 21)");
  check->add_option("--crit-days", args->crit_days,
                    "--nagios: CRITICAL when it expires within N days (0-3650, at most --warn-days, default 7)");
  check->add_flag("--expect-dane", args->expect_dane, "--nagios: a domain without DANE (none) is CRITICAL");
  add_check_flags(*check, args->flags);
  check->add_option("--color", args->color, "auto, always or never");
  check->add_option("--width", args->width,
                    "Wrap the text report at N columns (20-1000), or 0 for no wrapping; auto: the terminal's width, "
                    "else COLUMNS, else 80 on a terminal and no wrapping into a pipe or file");
  check->add_flag("-v,--verbose", args->verbose,
                  "Text report: every DNS answer, certificate chain and session detail, also for valid hosts");
  check->footer(
      "Exit status (with several domains the worst, in the order 1, 3, 2, 0):\n"
      "  0   valid: every MX host and address authenticates with DANE\n"
      "  1   a DANE problem: partial, invalid, unusable, or dnssec-failure from a bogus answer\n"
      "  2   no DANE: none or no-mail\n"
      "  3   not determined: DNS failures, timeouts, or danekit's own side (undetermined)\n"
      "  64  usage error\n"
      "  70  internal error\n"
      "With --nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (docs/cli.md).");
  check->callback([args, &action] { action = [args] { return run_check(*args); }; });
}

}  // namespace danekit::cli
