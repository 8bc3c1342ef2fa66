// Each subcommand registers its options on the CLI11 app and leaves behind the
// function that runs it. Only apps/danekit prints and picks exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace danekit::cli {

using Action = std::function<int()>;

// Registers the subcommand; sets `action` when it is the one selected.
void add_check_command(CLI::App& app, Action& action);
void add_tlsa_command(CLI::App& app, Action& action);  // tlsa generate | verify
void add_rollover_command(CLI::App& app, Action& action);

// One line on stderr, "danekit: ...", and the usage exit status.
int usage_error(const std::string& message);

// Shared resolver options (--trust-anchor, --root-hints, --resolver).
struct ResolverFlags {
  std::string trust_anchor, root_hints, forwarder;
};
void add_resolver_flags(CLI::App& cmd, ResolverFlags& flags);

}  // namespace danekit::cli
