// danekit mta-sts generate: the MTA-STS policy file (RFC 8461 §3.2) and its
// _mta-sts TXT record (§3.1), whose id is derived from the body so that it
// changes exactly when the body does (docs/cli.md).
#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "danekit/dns.h"
#include "danekit/mta_sts.h"
#include "danekit/version.h"

namespace danekit::cli {

namespace {

struct GenerateArgs {
  std::string domain, mode, max_age, format = "text";
  std::vector<std::string> mx, current_mx;
};

// An --mx value as it goes into the policy: lower-case A-labels, no trailing
// dot, "*." kept in front. The pattern rules are the matcher's
// (sts::mx_pattern_error); the name rules those of a mail host.
tl::expected<std::string, std::string> normalize_pattern(const std::string& input) {
  std::string_view rest = input;
  bool wildcard = rest.starts_with("*.");
  if (wildcard) rest.remove_prefix(2);
  if (rest.find('*') != std::string_view::npos) {
    auto err = sts::mx_pattern_error(input);
    return tl::unexpected(fmt::format("--mx '{}' is not a valid pattern: {}", input, err ? *err : "misplaced '*'"));
  }
  auto name = normalize_mail_domain(rest);
  if (!name) return tl::unexpected(fmt::format("--mx '{}': {}", input, name.error()));
  std::string pattern = (wildcard ? "*." : "") + *name;
  if (auto err = sts::mx_pattern_error(pattern))
    return tl::unexpected(fmt::format("--mx '{}' is not a valid pattern: {}", input, *err));
  return pattern;
}

// 0..31557600 written as 1 to 10 digits (RFC 8461 §3.2), nothing else.
std::optional<std::uint32_t> parse_max_age(const std::string& s) {
  if (s.empty() || s.size() > 10 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  auto n = std::stoull(s);
  if (n > sts::max_max_age) return std::nullopt;
  return static_cast<std::uint32_t>(n);
}

int run_generate(const GenerateArgs& a) {
  if (a.format != "text" && a.format != "json")
    return usage_error(fmt::format("--format must be text or json, not '{}'", a.format));
  if (a.domain.empty()) return usage_error("mta-sts generate needs --domain DOMAIN");
  auto domain = normalize_mail_domain(a.domain);
  if (!domain) return usage_error(fmt::format("--domain {}: {}", a.domain, domain.error()));
  if (a.mode.empty()) return usage_error("mta-sts generate needs --mode enforce, testing or none");
  auto mode = sts::parse_mode(a.mode);
  if (!mode) return usage_error(fmt::format("--mode must be enforce, testing or none, not '{}'", a.mode));
  if (a.max_age.empty()) return usage_error("mta-sts generate needs --max-age SECONDS (e.g. 604800, a week)");
  auto max_age = parse_max_age(a.max_age);
  if (!max_age)
    return usage_error(
        fmt::format("--max-age must be whole seconds from 0 to {}, not '{}'", sts::max_max_age, a.max_age));
  sts::PolicySpec spec{*mode, *max_age, {}};
  for (const auto& m : a.mx) {
    auto p = normalize_pattern(m);
    if (!p) return usage_error(p.error());
    if (std::find(spec.mx.begin(), spec.mx.end(), *p) != spec.mx.end())
      return usage_error(fmt::format("--mx {} is given twice", *p));
    spec.mx.push_back(*p);
  }
  // RFC 8461 §3.2: mx is required unless the mode is none.
  if (spec.mx.empty() && *mode != sts::Mode::none) return usage_error("--mx PATTERN is required unless --mode none");
  std::vector<std::string> current;
  for (const auto& h : a.current_mx) {
    auto n = normalize_mail_domain(h);
    if (!n) return usage_error(fmt::format("--current-mx {}: {}", h, n.error()));
    current.push_back(*n);
  }

  auto body = sts::policy_body(spec);
  if (body.size() > sts::max_policy_bytes)
    return usage_error(fmt::format("the policy would be {} bytes, more than senders read ({}): fewer --mx patterns",
                                   body.size(), sts::max_policy_bytes));
  // What we print must be what a sender accepts.
  auto check = sts::parse_sts_policy(body);
  if (!check.valid || !check.findings.empty())
    throw std::runtime_error("the generated policy does not parse: " +
                             (check.findings.empty() ? std::string("?") : check.findings.front().text));
  auto id = sts::policy_id(body);
  auto txt_name = fmt::format("_mta-sts.{}.", *domain);
  auto txt_value = sts::sts_txt_value(id);
  auto url = fmt::format("https://mta-sts.{}/.well-known/mta-sts.txt", *domain);

  nlohmann::json current_json = nlohmann::json::array(), warnings = nlohmann::json::array();
  std::vector<std::string> warning_lines;
  for (const auto& host : current) {
    auto m = sts::match_mx(host, spec.mx);
    current_json.push_back({{"host", host},
                            {"covered", m.covered},
                            {"pattern", m.covered ? nlohmann::json(m.pattern) : nlohmann::json(nullptr)}});
    if (m.covered) continue;
    std::string text =
        *mode == sts::Mode::none
            ? fmt::format(
                  "current MX host {} is covered by no mx pattern (harmless in mode none, not in testing or "
                  "enforce)",
                  host)
            : fmt::format("current MX host {} is covered by no mx pattern: MTA-STS senders {}", host,
                          *mode == sts::Mode::enforce
                              ? "do not deliver mail to it"
                              : "deliver to it but count it as a policy failure (in TLS-RPT reports)");
    warnings.push_back({{"code", "sts-mx-not-covered"}, {"text", text}});
    warning_lines.push_back(fmt::format("{} (sts-mx-not-covered)", text));
    for (const auto& f : m.findings) {
      warnings.push_back({{"code", f.code}, {"text", f.text}});
      warning_lines.push_back(fmt::format("{} ({})", f.text, f.code));
    }
  }
  for (const auto& w : warning_lines) fmt::print(stderr, "danekit: warning: {}\n", w);

  if (a.format == "json") {
    nlohmann::json mx = spec.mx;
    nlohmann::json out{{"schema", "danekit.mta-sts-generate/1"},
                       {"danekit", std::string(kVersion)},
                       {"domain", *domain},
                       {"mode", std::string(sts::to_string(*mode))},
                       {"max_age", *max_age},
                       {"mx", mx},
                       {"policy_url", url},
                       {"policy", body},
                       {"id", id},
                       {"txt", {{"name", txt_name}, {"value", txt_value}}},
                       {"current_mx", current_json},
                       {"warnings", warnings}};
    fmt::print("{}\n", out.dump());
    return 0;
  }
  // The body verbatim, CRLF line ends included, between comment lines.
  fmt::print("# Policy file: serve it as text/plain at {}\n{}\n# TXT record\n{} IN TXT \"{}\"\n", url, body, txt_name,
             txt_value);
  return 0;
}

}  // namespace

void add_mta_sts_command(CLI::App& app, Action& action) {
  auto* sts_cmd = app.add_subcommand("mta-sts", "Publish MTA-STS (RFC 8461): the policy file and its TXT record");
  sts_cmd->require_subcommand(1);
  auto g = std::make_shared<GenerateArgs>();
  auto* gen =
      sts_cmd->add_subcommand("generate", "Print a policy file and the _mta-sts TXT record whose id follows it");
  gen->add_option("--domain", g->domain, "The mail domain the policy is for");
  gen->add_option("--mx", g->mx, "An MX host or *.parent pattern the policy allows (repeatable)");
  gen->add_option("--mode", g->mode, "enforce, testing or none");
  gen->add_option("--max-age", g->max_age, "Seconds senders may cache the policy (0-31557600)");
  gen->add_option("--current-mx", g->current_mx, "An MX host the domain has now: warn if no pattern covers it");
  gen->add_option("--format", g->format, "text or json (schema danekit.mta-sts-generate/1)")->capture_default_str();
  gen->callback([g, &action] { action = [g] { return run_generate(*g); }; });
}

}  // namespace danekit::cli
