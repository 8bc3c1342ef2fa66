// danekit: the command-line front end. It alone parses argv, prints, and picks
// exit codes (docs/cli.md); all work happens in the library.
#include <fmt/format.h>
#include <cstdio>
#include <exception>

#include "commands.h"
#include "danekit/report.h"
#include "danekit/version.h"
#include "util/hex.h"

namespace danekit::cli {

int usage_error(const std::string& message) {
  // Messages quote argv and files: never echo their control characters raw.
  fmt::print(stderr, "danekit: {}\n", sanitize_for_display(message));
  return exit_status::usage;
}

void add_resolver_flags(CLI::App& cmd, ResolverFlags& flags) {
  cmd.add_option("--trust-anchor", flags.trust_anchor,
                 "DS/DNSKEY records (zone-file format) replacing the built-in root KSKs");
  cmd.add_option("--root-hints", flags.root_hints, "Root hints (zone-file format) replacing the built-in ones");
  cmd.add_option("--resolver", flags.forwarder,
                 "Send queries to this resolver, ADDR[@PORT]; answers are still validated locally");
}

}  // namespace danekit::cli

int main(int argc, char** argv) {
  using namespace danekit::cli;
  CLI::App app{"danekit: DANE for SMTP (RFC 7672) toolkit", "danekit"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("danekit {}", danekit::kVersion));
  Action action;
  add_check_command(app, action);
  add_tlsa_command(app, action);
  add_rollover_command(app, action);
  add_scan_command(app, action);
  add_dnssec_command(app, action);
  add_reasons_command(app, action);
  add_mta_sts_command(app, action);
  add_tlsrpt_command(app, action);

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
    if (int s = check_parse_error(argc, argv, msg + " (see danekit --help)"); s >= 0) return s;
    return usage_error(msg + " (see danekit --help)");
  }
  try {
    return action ? action() : usage_error("no command given (see danekit --help)");
  } catch (const std::exception& e) {
    fmt::print(stderr, "danekit: internal error: {}\n", e.what());
    return danekit::exit_status::internal;
  }
}
