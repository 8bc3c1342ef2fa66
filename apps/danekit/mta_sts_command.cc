// danekit mta-sts generate: the MTA-STS policy file (RFC 8461 §3.2) and its
// _mta-sts TXT record (§3.1), whose id is derived from the body so that it
// changes exactly when the body does (docs/cli.md).
#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "danekit/dns.h"
#include "danekit/mta_sts.h"
#include "danekit/pkix.h"
#include "danekit/resolver.h"
#include "danekit/sts_policy.h"
#include "report/writers.h"

namespace danekit::cli {

namespace {

struct GenerateArgs {
  std::string domain, mode, max_age;
  FormatFlags format{"text"};
  std::vector<std::string> mx, current_mx;
  bool check = false;
  ResolverFlags resolver;
  std::string ca_file;
  double timeout = 10;
};

// Exit statuses of --check (docs/cli.md): the live policy is the generated one,
// or it differs (publish), or danekit could not find out (its DNS lookup failed).
constexpr int kLiveInSync = 0, kLiveDiffers = 1, kLiveUnknown = 3;

// Compares the live record and policy with the generated ones; adds warnings.
int compare_live(const GenerateArgs& a, const std::string& domain, const std::string& body, const std::string& id,
                 report::MtaStsGenerated& out) {
  ResolverConfig rc;
  rc.trust_anchor_file = a.resolver.trust_anchor;
  rc.root_hints_file = a.resolver.root_hints;
  rc.forwarder = a.resolver.forwarder;
  auto live = fetch_live_sts(domain, rc, a.ca_file, std::chrono::milliseconds(static_cast<long>(a.timeout * 1000)));
  auto& l = out.live;
  l.checked = true;
  l.fetch = live.fetch ? live.fetch->outcome : "not-fetched";
  if (live.record.failed()) {
    l.record = "lookup-failed";
    l.state = "unknown";
    l.detail =
        fmt::format("the TXT lookup at _mta-sts.{} failed: {}", domain,
                    live.record.detail.empty() ? std::string(to_string(live.record.security)) : live.record.detail);
    return kLiveUnknown;
  }
  auto rec = sts::parse_sts_txt(txt_records(live.record));
  l.record = std::string(sts::to_string(rec.status));
  l.id = rec.id;
  if (rec.status == sts::RecordStatus::valid) l.id_matches = rec.id == id;
  if (live.fetch && live.fetch->outcome == "ok") {
    l.body_matches = live.fetch->body == body;
  } else if (rec.status == sts::RecordStatus::valid) {
    l.detail = live.fetch
                   ? fmt::format("fetching the live policy failed ({}): {}", live.fetch->outcome, live.fetch->detail)
                   : fmt::format("{} has no address", live.policy_host);
  }
  // The live body changed without an id change: the live id is the one made
  // for the generated body while the live body is another, or it is a
  // danekit-made id (the body's digest) of a body other than the live one.
  bool stale = false;
  if (l.body_matches) {
    bool digest_like = rec.id.size() == 32 && std::all_of(rec.id.begin(), rec.id.end(), [](char c) {
                         return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                       });
    stale = (!*l.body_matches && rec.id == id) || (digest_like && rec.id != sts::policy_id(live.fetch->body));
  }
  if (stale) {
    l.state = "stale-id";
    out.warnings.push_back(report::catalog_reason(
        "sts-id-stale",
        fmt::format("the live policy of {} is not the one its TXT id {} was made for: the body changed without an "
                    "id change, so senders that cached the policy keep the old one until max_age runs out",
                    domain, rec.id)));
    return kLiveDiffers;
  }
  if (l.body_matches == true) {
    l.state = "in-sync";
    return kLiveInSync;
  }
  l.state = "differs";
  if (l.detail.empty())
    l.detail = l.body_matches == false ? "the live policy differs from the generated one"
                                       : fmt::format("no valid live record ({})", l.record);
  return kLiveDiffers;
}

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
  std::string format_error;
  auto format = chosen_format(a.format, {"text", "json"}, format_error);
  if (!format_error.empty()) return usage_error(format_error);
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

  report::MtaStsGenerated out;
  out.domain = *domain;
  out.mode = std::string(sts::to_string(*mode));
  out.max_age = *max_age;
  out.mx = spec.mx;
  out.policy_url = url;
  out.policy = body;
  out.id = id;
  out.txt_name = txt_name.substr(0, txt_name.size() - 1);  // JSON names carry no trailing dot
  out.txt_value = txt_value;
  for (const auto& host : current) {
    auto m = sts::match_mx(host, spec.mx);
    out.current_mx.push_back({host, m.covered, m.covered ? m.pattern : std::string()});
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
    out.warnings.push_back(report::catalog_reason("sts-mx-not-covered", text, host));
    for (const auto& f : m.findings) out.warnings.push_back(report::catalog_reason(f.code, f.text, host));
  }
  int status = 0;
  if (a.check) {
    if (!(a.timeout >= 1 && a.timeout <= 600)) return usage_error("--timeout must be between 1 and 600 seconds");
    if (!a.ca_file.empty()) {
      auto trust = PkixTrust::load(a.ca_file);
      if (!trust) return usage_error("--ca-file: " + trust.error());
    }
    try {
      status = compare_live(a, *domain, body, id, out);
    } catch (const ResolverError& e) {
      return usage_error(e.what());
    }
  } else if (!a.resolver.trust_anchor.empty() || !a.resolver.root_hints.empty() || !a.resolver.forwarder.empty() ||
             !a.ca_file.empty()) {
    return usage_error("--trust-anchor, --root-hints, --resolver and --ca-file go with --check");
  }
  for (const auto& w : out.warnings) fmt::print(stderr, "danekit: warning: {} ({})\n", w.text, w.code);

  if (format == "json") {
    fmt::print("{}\n", report::mta_sts_generate_json(out));
    return status;
  }
  // The body verbatim, CRLF line ends included, between comment lines.
  fmt::print("# Policy file: serve it as text/plain at {}\n{}\n# TXT record\n{} IN TXT \"{}\"\n", url, body, txt_name,
             txt_value);
  if (a.check) {
    const auto& l = out.live;
    std::string what = l.state == "in-sync"    ? "the live policy is this one"
                       : l.state == "stale-id" ? "the live policy differs and its id is stale"
                       : l.state == "unknown"  ? "could not read the live policy"
                                               : "the live policy differs: publish the file above, then the TXT record";
    fmt::print("# Live (--check): {}; record {}{}, fetch {}{}\n", what, l.record, l.id.empty() ? "" : " id " + l.id,
               l.fetch, l.detail.empty() ? "" : " (" + l.detail + ")");
  }
  return status;
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
  add_format_flags(*gen, g->format, "text or json (schema danekit.mta-sts-generate/1)");
  gen->add_flag("--check", g->check,
                "Also fetch the live record and policy and compare: exit 0 the live policy is this one, 1 it "
                "differs or its id is stale (the body changed without an id change), 3 the lookup failed");
  add_resolver_flags(*gen, g->resolver);
  gen->add_option("--ca-file", g->ca_file, "--check: PEM CAs trusted beside the system store for the policy host");
  gen->add_option("--timeout", g->timeout, "--check: seconds for each lookup and the fetch (1-600)");
  gen->callback([g, &action] { action = [g] { return run_generate(*g); }; });
}

}  // namespace danekit::cli
