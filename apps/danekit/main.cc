// danekit: the command-line front end. It alone parses argv, prints, and picks
// exit codes (docs/cli.md); all work happens in the library.
#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <vector>

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

void add_format_flags(CLI::App& cmd, FormatFlags& flags, std::string values) {
  flags.option = cmd.add_option("--format", flags.format, std::move(values));
  cmd.add_flag("--json", flags.json, "Same as --format json");
}

std::string chosen_format(const FormatFlags& flags, std::initializer_list<std::string_view> allowed,
                          std::string& error) {
  error.clear();
  bool given = flags.option && flags.option->count() > 0;
  if (flags.json && given && flags.format != "json") {
    error = "--json conflicts with --format " + flags.format;
    return {};
  }
  std::string format = flags.json ? std::string("json") : flags.format;
  if (std::find(allowed.begin(), allowed.end(), format) != allowed.end()) return format;
  std::string list;
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    list += i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ";
    list += *(allowed.begin() + i);
  }
  error = fmt::format("--format must be {}, not '{}'", list, format);
  return {};
}

namespace {

// --help shows every option's default: the value it holds before parsing
// (CLI11 captures it as text). Positionals, flags and empty defaults show none.
void show_defaults(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) {
    if (opt->get_positional() || opt->get_type_size() == 0) continue;
    opt->capture_default_str();
    auto shown = opt->get_default_str();
    if (shown == "[]" || shown == "\"\"") opt->default_str("");
  }
  for (CLI::App* sub : app.get_subcommands({})) show_defaults(*sub);
}

// Optimal string alignment distance (Levenshtein with adjacent
// transpositions): "chek" -> "check" 1, "scna" -> "scan" 1.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// The nearest candidate at distance 1 or 2, the first registered on a tie;
// none for words too short to guess from.
std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string_view bare = word.substr(std::min(word.find_first_not_of('-'), word.size()));
  if (bare.size() < 3 || word.size() > 64) return std::nullopt;
  std::optional<std::string> best;
  std::size_t best_distance = 3;
  for (const auto& c : candidates) {
    auto d = edit_distance(word, c);
    if (d > 0 && d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

// The (sub)command the words given so far selected: the deepest one parsed.
CLI::App* selected_command(CLI::App& app) {
  CLI::App* cur = &app;
  for (;;) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) return cur;
    cur = subs.back();
  }
}

std::string command_path(const CLI::App* cmd) {
  std::string path;
  for (; cmd && cmd->get_parent(); cmd = cmd->get_parent()) path = cmd->get_name() + (path.empty() ? "" : " ") + path;
  return path;
}

// "did you mean": for a word CLI11 could not place, the nearest subcommand or
// long option name of the command it was given to (the message, or nothing
// when no name is near: then CLI11's own message stands, or for a word where a
// subcommand belongs, "unknown command").
std::optional<std::string> unknown_word_message(CLI::App& app) {
  CLI::App* cmd = selected_command(app);
  auto left = cmd->remaining();
  if (left.empty()) return std::nullopt;
  auto flag = std::find_if(left.begin(), left.end(), [](const std::string& w) { return w.starts_with("--"); });
  std::string path = command_path(cmd);
  auto subs = cmd->get_subcommands({});
  // A word where a subcommand belongs ("tlsa genrate --cert x") is the mistake,
  // not the options after it.
  bool command_word = !subs.empty() && !left.front().starts_with("-");
  if (flag != left.end() && !command_word) {
    std::string word = flag->substr(0, flag->find('='));
    std::vector<std::string> names;
    for (const CLI::Option* opt : cmd->get_options()) {
      if (opt->get_group().empty()) continue;  // hidden: never suggested
      for (const auto& n : opt->get_lnames()) names.push_back("--" + n);
    }
    auto near = nearest(word, names);
    if (!near) return std::nullopt;
    return fmt::format("unknown option '{}'{}; did you mean '{}'?", word,
                       path.empty() ? "" : fmt::format(" for '{}'", path), *near);
  }
  if (!command_word) return std::nullopt;
  std::vector<std::string> names;
  for (const CLI::App* sub : subs) names.push_back(sub->get_name());
  const std::string& word = left.front();
  std::string prefix = path.empty() ? "" : path + " ";
  auto near = nearest(word, names);
  if (!near) return fmt::format("unknown command '{}{}' (see danekit {}--help)", prefix, word, prefix);
  return fmt::format("unknown command '{}{}'; did you mean '{}{}'?", prefix, word, prefix, *near);
}

}  // namespace

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
  show_defaults(app);

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
    msg += " (see danekit --help)";
    if (dynamic_cast<const CLI::ExtrasError*>(&e) || dynamic_cast<const CLI::RequiredError*>(&e))
      if (auto better = unknown_word_message(app)) msg = *better;
    if (int s = check_parse_error(argc, argv, msg); s >= 0) return s;
    return usage_error(msg);
  }
  try {
    return action ? action() : usage_error("no command given (see danekit --help)");
  } catch (const std::exception& e) {
    fmt::print(stderr, "danekit: internal error: {}\n", e.what());
    return danekit::exit_status::internal;
  }
}
