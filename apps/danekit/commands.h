// Each subcommand registers its options on the CLI11 app and leaves behind the
// function that runs it. Only apps/danekit prints and picks exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "danekit/check.h"

namespace danekit::cli {

using Action = std::function<int()>;

// Registers the subcommand; sets `action` when it is the one selected.
void add_check_command(CLI::App& app, Action& action);
void add_tlsa_command(CLI::App& app, Action& action);  // tlsa generate | verify
void add_rollover_command(CLI::App& app, Action& action);
void add_scan_command(CLI::App& app, Action& action);
void add_dnssec_command(CLI::App& app, Action& action);   // per-nameserver DNSSEC audit
void add_reasons_command(CLI::App& app, Action& action);  // the reason-code catalog
void add_mta_sts_command(CLI::App& app, Action& action);  // mta-sts generate (RFC 8461 policy + TXT)
void add_tlsrpt_command(CLI::App& app, Action& action);   // tlsrpt summarize (RFC 8460 reports)

// One line on stderr, "danekit: ...", and the usage exit status.
int usage_error(const std::string& message);
// A command-line parse error of `check --nagios`: the plugin status UNKNOWN
// (3) with its status line on stdout as well; -1 for any other command line.
int check_parse_error(int argc, char** argv, const std::string& message);

// Shared resolver options (--trust-anchor, --root-hints, --resolver).
struct ResolverFlags {
  std::string trust_anchor, root_hints, forwarder;
};
void add_resolver_flags(CLI::App& cmd, ResolverFlags& flags);

// --format and its alias --json, the same on every command (docs/cli.md).
// `format` holds the command's default until the option is given.
struct FormatFlags {
  std::string format;
  bool json = false;
  CLI::Option* option = nullptr;  // --format, to tell given from default
};
// Registers --format (help: `values`, e.g. "text or json (schema danekit.dnssec/1)")
// and --json ("Same as --format json").
void add_format_flags(CLI::App& cmd, FormatFlags& flags, std::string values);
// The format asked for: --json means json; --json beside another --format, or a
// value not in `allowed`, is a usage-error message (one line) in `error`.
std::string chosen_format(const FormatFlags& flags, std::initializer_list<std::string_view> allowed,
                          std::string& error);

// The options `check` and `scan` share (check_command.cc): resolver, -4/-6,
// --helo, --timeout and the policy options --days, --insecure-mx-policy and the
// hidden --port.
struct CheckFlags {
  ResolverFlags resolver;
  std::string helo = "danekit.invalid", insecure_mx = "dane";
  bool only4 = false, only6 = false;
  bool allow_special = false;
  bool other_cert = true;  // the command's default; --[no-]other-certificate
  bool mta_sts = true;     // --[no-]mta-sts
  std::string ca_file;     // --ca-file: CAs trusted beside the system store (MTA-STS)
  double timeout = 30;
  int days = 0;
  int port = 25;
};
void add_check_flags(CLI::App& cmd, CheckFlags& flags);
// The first fault in --helo, --timeout, --days or --port; empty when none.
std::string check_flags_error(const CheckFlags& flags);
// The fault in --insecure-mx-policy; empty when none. (check reports --color
// between the two.)
std::string policy_flags_error(const CheckFlags& flags);
// The options for valid flags.
CheckOptions check_options(const CheckFlags& flags);

}  // namespace danekit::cli
