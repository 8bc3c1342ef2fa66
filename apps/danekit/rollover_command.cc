// danekit rollover status | plan | precheck | next-key | stage | deploy
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <tuple>

#include "commands.h"
#include "danekit/keys.h"
#include "danekit/nsupdate.h"
#include "danekit/report.h"
#include "danekit/rollover.h"
#include "danekit/rollover_report.h"
#include "danekit/version.h"
#include "report/shapes.h"
#include "util/hex.h"

namespace danekit::cli {

namespace {

using json = nlohmann::ordered_json;

struct Args {
  std::string host, domain, current_cert, current_key, next_key, next_cert, next_csr, cert, state, nsupdate, tsig;
  std::string format = "text", out;
  bool json_alias = false;
  // stage / deploy
  std::string staged, name, key_file, key_target, chain_target, combined_target, reload;
  int reload_timeout = 60, lock_wait = 60;
  ResolverFlags resolver;
  int port = 25, rsa = 0;
  long margin = 60, ttl = 0;
  double timeout = 20;
};

tl::expected<std::vector<std::string>, std::string> hosts_of(const Args& a, const ResolverConfig& rc) {
  if (!a.host.empty() && !a.domain.empty()) return tl::unexpected(std::string("give --host or --domain, not both"));
  if (!a.host.empty()) {
    auto h = normalize_domain(a.host);
    if (!h) return tl::unexpected("--host: " + h.error());
    return std::vector<std::string>{*h};
  }
  if (a.domain.empty()) return tl::unexpected(std::string("give --host MXHOST or --domain DOMAIN"));
  auto d = normalize_domain(a.domain);
  if (!d) return tl::unexpected("--domain: " + d.error());
  return lookup_mx_hosts(*d, rc);
}

ResolverConfig resolver_of(const Args& a) {
  return {a.resolver.trust_anchor, a.resolver.root_hints, a.resolver.forwarder};
}

// Loads --current-* and --next-*; at most one of each kind.
tl::expected<void, std::string> load_keys(const Args& a, RolloverOptions& o) {
  auto one = [](std::vector<std::pair<std::string, KeyKind>> choices, const char* what,
                std::optional<KeySource>& into) -> tl::expected<void, std::string> {
    int given = 0;
    for (const auto& [path, kind] : choices) {
      if (path.empty()) continue;
      if (++given > 1) return tl::unexpected(fmt::format("give only one {} key, certificate or CSR", what));
      auto k = load_key_source(path, kind);
      if (!k) return tl::unexpected(k.error());
      into = *k;
    }
    return {};
  };
  if (auto r = one({{a.current_cert, KeyKind::cert}, {a.current_key, KeyKind::key}}, "current", o.current); !r)
    return r;
  return one({{a.next_key, KeyKind::key}, {a.next_cert, KeyKind::cert}, {a.next_csr, KeyKind::csr}}, "next", o.next);
}

RolloverOptions options_of(const Args& a, const std::string& host) {
  RolloverOptions o;
  o.resolver = resolver_of(a);
  o.host = host;
  // With --domain, the domain is the next-hop domain: a DANE-TA(2) chain may
  // name it instead of the MX host (RFC 7672 §3.2.2), as in `danekit check`.
  if (!a.domain.empty())
    if (auto d = normalize_domain(a.domain); d && *d != host) o.extra_names = {*d};
  o.port = static_cast<std::uint16_t>(a.port);
  o.margin = a.margin;
  o.state_file = a.state;
  o.timeout = std::chrono::milliseconds(static_cast<long>(a.timeout * 1000));
  return o;
}

int validate(const Args& a) {
  if (a.port < 1 || a.port > 65535) return usage_error("--port must be between 1 and 65535");
  if (a.margin < 0 || a.margin > 86400 * 30) return usage_error("--margin must be between 0 and 2592000 seconds");
  if (!(a.timeout >= 1 && a.timeout <= 600)) return usage_error("--timeout must be between 1 and 600 seconds");
  if (a.ttl < 0 || a.ttl > 86400 * 7) return usage_error("--ttl must be between 0 and 604800");
  if (a.format != "text" && a.format != "json" && a.format != "nsupdate" && a.format != "zone")
    return usage_error("--format must be text, json, nsupdate or zone");
  if (!a.nsupdate.empty() && a.tsig.empty()) return usage_error("--nsupdate needs --tsig FILE");
  return 0;
}

// Sends or prints the changes; returns an exit status.
int publish(const Args& a, const RolloverFacts& f, const TlsaUpdate& u) {
  if (u.add.empty() && u.remove.empty()) return 0;
  if (a.format == "nsupdate") {
    fmt::print("{}", format_nsupdate(u, a.nsupdate));
    return 0;
  }
  if (a.format == "zone") {
    fmt::print("{}", format_zone_change(u));
    return 0;
  }
  if (a.nsupdate.empty()) return 0;
  auto key = read_tsig_file(a.tsig);
  if (!key) return usage_error(key.error());
  if (u.zone.empty()) return usage_error(fmt::format("cannot tell which zone holds {}", f.owner));
  auto sent = send_tlsa_update(a.nsupdate, u, *key);
  if (!sent) {
    fmt::print(stderr, "danekit: {}\n", sent.error());
    return exit_status::undetermined;
  }
  fmt::print("sent to {}: {} added, {} removed at {}\n", a.nsupdate, u.add.size(), u.remove.size(), f.owner);
  return 0;
}

TlsaUpdate update_for(const Args& a, const RolloverFacts& f) {
  TlsaUpdate u;
  u.zone = f.zone;
  u.owner = f.owner;
  u.ttl = a.ttl ? static_cast<std::uint32_t>(a.ttl) : (f.tlsa_ttl ? f.tlsa_ttl : 3600);
  return u;
}

// --format text|json with --json as its alias (status, precheck, stage, deploy).
int text_or_json(Args& a) {
  if (a.json_alias) {
    if (a.format != "text" && a.format != "json") return usage_error("--json and --format " + a.format + " clash");
    a.format = "json";
  }
  if (a.format != "text" && a.format != "json") return usage_error("--format must be text or json");
  return 0;
}

// Every authoritative server's TLSA RRset at the owner (docs/rollover.md).
json authoritative_json(const RolloverFacts& f, const RolloverStatus& s) {
  json servers = json::array();
  for (const auto& x : f.authoritative) {
    json recs = json::array();
    for (const auto& r : x.records) recs.push_back(to_presentation(r));
    servers.push_back({{"name", x.name},
                       {"address", x.address},
                       {"answered", x.failure.empty()},
                       {"failure", x.failure.empty() ? json() : json(x.failure)},
                       {"records", recs}});
  }
  return {{"checked", !f.authoritative.empty()},
          {"servers", servers},
          {"missing", s.servers_differing},
          {"error", f.authoritative_error.empty() ? json() : json(f.authoritative_error)}};
}

int run_status(Args a) {
  if (int v = text_or_json(a)) return v;
  if (int v = validate(a)) return v;
  auto hosts = hosts_of(a, resolver_of(a));
  if (!hosts) return usage_error(hosts.error());
  int status = 0;
  json all = json::array();
  for (const auto& host : *hosts) {
    auto o = options_of(a, host);
    if (auto k = load_keys(a, o); !k) return usage_error(k.error());
    auto f = gather_rollover_facts(o);
    if (!f) return usage_error(f.error());
    auto s = rollover_status(*f);
    bool undetermined = f->tlsa_security == Security::indeterminate || f->served.empty();
    int host_status = s.ok && (!f->next || s.next_covered) ? 0 : undetermined ? exit_status::undetermined : 1;
    status = std::max(status, host_status == 3 ? 3 : host_status);
    if (a.format == "json") {
      json recs = json::array();
      for (const auto& r : s.records)
        recs.push_back({{"record", report::tlsa_record(r.record)},
                        {"state", r.state},
                        {"live", r.live},
                        {"current", r.current},
                        {"next", r.next},
                        {"first_seen", r.first_seen ? json(iso8601(*r.first_seen)) : json()},
                        {"unusable_reason", r.usable ? json() : json(r.unusable_reason)}});
      json served = json::array();
      for (const auto& p : f->served)
        served.push_back({{"address", p.address},
                          {"outcome", to_string(p.outcome)},
                          {"spki_sha256", p.chain.empty() ? json() : json(p.chain[0].spki_sha256)}});
      all.push_back({{"host", host},
                     {"owner", f->owner},
                     {"security", to_string(f->tlsa_security)},
                     {"ttl", f->tlsa_ttl},
                     {"negative_ttl", f->negative_ttl},
                     {"records", recs},
                     {"served", served},
                     {"next_covered", f->next ? json(s.next_covered) : json()},
                     {"missing_for_next", s.missing_for_next ? json(report::tlsa_record(*s.missing_for_next)) : json()},
                     {"authoritative", authoritative_json(*f, s)},
                     {"findings", s.findings},
                     {"ok", s.ok}});
      continue;
    }
    fmt::print("{}  TLSA {} {}, TTL {} s, negative TTL {} s\n", f->owner, to_string(f->tlsa_security),
               to_string(f->tlsa_kind), f->tlsa_ttl, f->negative_ttl);
    for (const auto& r : s.records)
      fmt::print("  {:8} {}{}\n", r.state, to_presentation(r.record),
                 r.first_seen ? fmt::format("  (first seen {})", iso8601(*r.first_seen)) : "");
    for (const auto& p : f->served)
      fmt::print("  {} serves {}: {}\n", p.address, p.chain.empty() ? "(no certificate)" : p.chain[0].spki_sha256,
                 to_string(p.outcome));
    if (f->current) fmt::print("  current: {}\n", f->current->name);
    if (f->next) fmt::print("  next: {} ({})\n", f->next->name, s.next_covered ? "published" : "NOT published");
    for (const auto& x : f->authoritative)
      fmt::print("  authoritative {} {}: {}\n", x.name, x.address,
                 !x.failure.empty() ? x.failure : fmt::format("{} record(s)", x.records.size()));
    for (const auto& x : s.findings) fmt::print("  ! {}\n", x);
  }
  if (a.format == "json") {
    // One object whatever the number of MX hosts (docs/json.md).
    json out = report::envelope("danekit.rollover-status/1");
    out["hosts"] = std::move(all);
    out["exit_status"] = status;
    fmt::print("{}\n", report::dump(out));
  }
  return status;
}

int run_plan(Args a) {
  if (a.json_alias) {
    if (a.format != "text" && a.format != "json") return usage_error("--json and --format " + a.format + " clash");
    a.format = "json";
  }
  if (int v = validate(a)) return v;
  if (a.next_key.empty() && a.next_cert.empty() && a.next_csr.empty())
    return usage_error("plan needs --next-key, --next-cert or --next-csr");
  // A bad --tsig file is refused before any lookup, not after the plan.
  if (!a.nsupdate.empty() && a.format != "nsupdate" && a.format != "zone")
    if (auto key = read_tsig_file(a.tsig); !key) return usage_error(key.error());
  auto hosts = hosts_of(a, resolver_of(a));
  if (!hosts) return usage_error(hosts.error());
  int status = 0;
  json plans = json::array();
  for (const auto& host : *hosts) {
    auto o = options_of(a, host);
    if (auto k = load_keys(a, o); !k) return usage_error(k.error());
    auto f = gather_rollover_facts(o);
    if (!f) return usage_error(f.error());
    if (f->tlsa_security != Security::secure && f->tlsa_kind == AnswerKind::data) {
      fmt::print(stderr, "danekit: the TLSA RRset at {} is {}; fix DNSSEC before a rollover\n", f->owner,
                 to_string(f->tlsa_security));
      return 1;
    }
    auto plan = plan_rollover(*f);
    // The changes that are due now: publish the next record, or - once every
    // address serves the new key - withdraw the old ones.
    auto u = update_for(a, *f);
    u.add = plan.steps[0].add;
    if (plan.steps[3].done) u.remove = plan.steps[4].remove;
    if (a.format == "text" || a.format == "json") {
      if (a.format == "json") {
        json steps = json::array();
        for (const auto& s : plan.steps) {
          json add = json::array(), rem = json::array();
          for (const auto& r : s.add) add.push_back(report::tlsa_record(r));
          for (const auto& r : s.remove) rem.push_back(report::tlsa_record(r));
          steps.push_back({{"step", s.number},
                           {"title", s.title},
                           {"detail", s.detail},
                           {"earliest", s.earliest ? json(iso8601(s.earliest)) : json()},
                           {"done", s.done},
                           {"add", add},
                           {"remove", rem}});
        }
        plans.push_back(json{{"host", host},
                             {"owner", f->owner},
                             {"wait_seconds", plan.wait_seconds},
                             {"steady_state", plan.steady_state},
                             {"why", plan.why},
                             {"steps", steps}});
      } else {
        fmt::print("Rollover plan for {} (wait {} s = TLSA TTL {} + negative TTL {} + margin {})\n", f->owner,
                   plan.wait_seconds, f->tlsa_ttl, f->negative_ttl, f->margin);
        for (const auto& s : plan.steps) {
          fmt::print("  {}. [{}] {}{}\n", s.number, s.done ? "done" : "    ", s.title,
                     s.earliest && !s.done ? fmt::format("  (not before {})", iso8601(s.earliest)) : "");
          fmt::print("       {}\n", s.detail);
          for (const auto& r : s.add) fmt::print("       + {} {} IN TLSA {}\n", f->owner, u.ttl, to_presentation(r));
          for (const auto& r : s.remove) fmt::print("       - {} IN TLSA {}\n", f->owner, to_presentation(r));
        }
        fmt::print("Recommended steady state: {}.\n  {}\n", plan.steady_state, plan.why);
      }
    }
    if (int p = publish(a, *f, u)) status = std::max(status, p);
  }
  if (a.format == "json") {
    // One object whatever the number of MX hosts (docs/json.md).
    json out = report::envelope("danekit.rollover-plan/1");
    out["hosts"] = std::move(plans);
    out["exit_status"] = status;
    fmt::print("{}\n", report::dump(out));
  }
  return status;
}

int run_precheck(Args a) {
  if (int v = text_or_json(a)) return v;
  if (int v = validate(a)) return v;
  if (a.cert.empty()) return usage_error("precheck needs --cert NEW (the certificate about to be deployed)");
  auto candidate = load_key_source(a.cert, KeyKind::cert);
  if (!candidate) return usage_error(candidate.error());
  auto hosts = hosts_of(a, resolver_of(a));
  if (!hosts) return usage_error(hosts.error());
  // One decision for precheck and deploy (precheck_hosts); only a set-up
  // fault (resolver files, the state file) is a usage error here.
  auto run = precheck_hosts(options_of(a, hosts->front()), *hosts, *candidate);
  for (const auto& h : run.hosts)
    if (!h.error.empty()) return usage_error(h.error);
  fmt::print("{}", a.format == "json" ? to_json(run) + "\n" : render_text(run));
  return exit_status_for(run);
}

// The options shared by stage and deploy, checked.
int staged_dir_error(const Args& a) {
  if (a.staged.empty()) return usage_error("give --staged DIR (the staging directory)");
  if (a.lock_wait < 0 || a.lock_wait > 3600) return usage_error("--lock-wait must be between 0 and 3600 seconds");
  return 0;
}

int run_stage(Args a) {
  if (int v = text_or_json(a)) return v;
  if (int v = staged_dir_error(a)) return v;
  if (a.port < 1 || a.port > 65535) return usage_error("--port must be between 1 and 65535");
  StageRequest rq;
  rq.staged_dir = a.staged;
  rq.name = a.name;
  rq.cert_file = a.cert;
  rq.key_file = a.key_file;
  rq.lock_wait = a.lock_wait;
  for (auto [flag, from, into] :
       {std::tuple{"--host", &a.host, &rq.meta.host}, std::tuple{"--domain", &a.domain, &rq.meta.domain}}) {
    if (from->empty()) continue;
    auto n = normalize_domain(*from);
    if (!n) return usage_error(fmt::format("{}: {}", flag, n.error()));
    *into = *n;
  }
  rq.meta.port = static_cast<std::uint16_t>(a.port);
  rq.meta.key_target = a.key_target;
  rq.meta.chain_target = a.chain_target;
  rq.meta.combined_target = a.combined_target;
  rq.meta.reload = a.reload;
  rq.meta.reload_timeout = a.reload_timeout;
  auto r = stage_certificate(rq);
  if (r.status != 0) {
    fmt::print(stderr, "danekit: {}\n", sanitize_for_display(r.error));
    return r.status;
  }
  if (a.format == "json")
    fmt::print("{}\n", json{{"schema", "danekit.rollover-stage/1"},
                            {"danekit", std::string(kVersion)},
                            {"entry", r.entry},
                            {"replaced", r.replaced},
                            {"spki_sha256", r.spki_sha256}}
                           .dump());
  else
    fmt::print("staged {}{} (key SHA2-256 {})\n", r.entry, r.replaced ? ", replacing the older staged copy" : "",
               r.spki_sha256);
  return 0;
}

int run_deploy(Args a) {
  if (int v = text_or_json(a)) return v;
  if (int v = staged_dir_error(a)) return v;
  if (int v = validate(a)) return v;
  DeployOptions o;
  o.staged_dir = a.staged;
  o.lock_wait = a.lock_wait;
  o.only_name = a.name;
  if (!a.name.empty() && !valid_staged_name(a.name))
    return usage_error("--name: 1-100 of A-Z a-z 0-9 . _ -, not starting with \".\"");
  o.rollover = options_of(a, "");
  auto run = deploy_staged(o);
  for (const auto& line : deploy_errors(run)) fmt::print(stderr, "danekit: {}\n", sanitize_for_display(line));
  fmt::print("{}", a.format == "json" ? to_json(run) + "\n" : render_text(run));
  return run.status;
}

int run_next_key(const Args& a) {
  if (int v = validate(a)) return v;
  if (a.out.empty()) return usage_error("next-key needs --out FILE (where to write the new private key)");
  auto key = generate_key_file(a.out, a.rsa);
  if (!key) return usage_error(key.error());
  auto rec = ee_record_for(*key);
  fmt::print(stderr, "wrote {} ({})\n", a.out, a.rsa ? fmt::format("RSA {}", a.rsa) : "ECDSA P-256");
  if (a.host.empty()) {
    fmt::print("{}\n", to_presentation(rec));
    return 0;
  }
  auto host = normalize_domain(a.host);
  if (!host) return usage_error("--host: " + host.error());
  if (!a.nsupdate.empty() || a.format == "nsupdate") {
    auto f = gather_rollover_facts(options_of(a, *host));
    if (!f) return usage_error(f.error());
    auto u = update_for(a, *f);
    u.add = {rec};
    return publish(a, *f, u);
  }
  fmt::print("_{}._tcp.{}. {} IN TLSA {}\n", a.port, *host, a.ttl ? a.ttl : 3600, to_presentation(rec));
  return 0;
}

}  // namespace

void add_rollover_command(CLI::App& app, Action& action) {
  auto* roll = app.add_subcommand("rollover", "Keep TLSA records and keys in step (current + next key)");
  roll->require_subcommand(1);
  auto common = [](CLI::App* c, Args& a, bool keys) {
    c->add_option("--host", a.host, "The MX host");
    c->add_option("--domain", a.domain, "All MX hosts of this domain");
    c->add_option("--port", a.port, "Port of the TLSA owner name (default 25)");
    add_resolver_flags(*c, a.resolver);
    c->add_option("--state", a.state, "First-seen store (default ~/.local/state/danekit/state.db)");
    c->add_option("--margin", a.margin, "Seconds added to every cache wait (default 60)");
    c->add_option("--timeout", a.timeout, "Seconds for DNS and each probe (default 20)");
    if (keys) {
      c->add_option("--current-cert", a.current_cert, "The certificate (chain) in service now");
      c->add_option("--current-key", a.current_key, "The private key in service now");
      c->add_option("--next-key", a.next_key, "The next private key");
      c->add_option("--next-cert", a.next_cert, "The next certificate (chain)");
      c->add_option("--next-csr", a.next_csr, "A CSR for the next key");
    }
  };
  auto publishing = [](CLI::App* c, Args& a) {
    c->add_option("--nsupdate", a.nsupdate, "Send the due changes as an RFC 2136 update to SERVER[@PORT]");
    c->add_option("--tsig", a.tsig, "TSIG key file (BIND key block or hmac-sha256:name:secret)");
    c->add_option("--ttl", a.ttl, "TTL for added records (default: the RRset's, else 3600)");
  };
  {
    auto a = std::make_shared<Args>();
    auto* c = roll->add_subcommand("status", "Published records, what every address serves, current and next keys");
    common(c, *a, true);
    c->add_option("--format", a->format, "text or json (schema danekit.rollover-status/1)");
    c->add_flag("--json", a->json_alias, "The same as --format json");
    c->callback([a, &action] { action = [a] { return run_status(*a); }; });
  }
  {
    auto a = std::make_shared<Args>();
    auto* c = roll->add_subcommand("plan", "The ordered rollover steps with the earliest safe time for each");
    common(c, *a, true);
    publishing(c, *a);
    c->add_option("--format", a->format,
                  "text, json (schema danekit.rollover-plan/1), nsupdate or zone (the latter two print the due "
                  "changes)");
    c->add_flag("--json", a->json_alias, "The same as --format json");
    c->callback([a, &action] { action = [a] { return run_plan(*a); }; });
  }
  {
    auto a = std::make_shared<Args>();
    auto* c = roll->add_subcommand("precheck", "Exit 1 if deploying this certificate now would break DANE");
    common(c, *a, false);
    c->add_option("--cert", a->cert, "The new certificate (PEM chain or DER)")->required();
    c->add_option("--format", a->format, "text or json (schema danekit.rollover-precheck/1)");
    c->add_flag("--json", a->json_alias, "The same as --format json");
    c->footer(
        "Exit status: 0 safe to deploy on every host, 1 not (yet): the reason and when it becomes safe, 3 could "
        "not decide (DNS or a probe failed on our side), 64 usage, 70 internal.");
    c->callback([a, &action] { action = [a] { return run_precheck(*a); }; });
  }
  {
    auto a = std::make_shared<Args>();
    auto* c = roll->add_subcommand("stage", "Stage a renewed certificate for `rollover deploy` (deploy hooks)");
    c->add_option("--staged", a->staged, "The staging directory (created mode 0700 if missing)")->required();
    c->add_option("--name", a->name, "Entry name, e.g. the certbot lineage; replaces an older staged copy")->required();
    c->add_option("--cert", a->cert, "The new chain (PEM, leaf first)")->required();
    c->add_option("--key", a->key_file, "Its private key (PEM)")->required();
    c->add_option("--host", a->host, "The MX host it is for");
    c->add_option("--domain", a->domain, "Or: every MX host of this domain");
    c->add_option("--port", a->port, "Port of the TLSA owner name (default 25)");
    c->add_option("--key-target", a->key_target, "Where deploy installs the key (with --chain-target)");
    c->add_option("--chain-target", a->chain_target, "Where deploy installs the chain");
    c->add_option("--combined-target", a->combined_target,
                  "Where deploy installs key and chain in one file (Postfix smtpd_tls_chain_files)");
    c->add_option("--reload", a->reload, "Command (/bin/sh -c) deploy runs after installing, e.g. 'postfix reload'");
    c->add_option("--reload-timeout", a->reload_timeout, "Seconds the reload command may take, 1-600 (default 60)");
    c->add_option("--lock-wait", a->lock_wait, "Seconds to wait for the staging directory's lock (default 60)");
    c->add_option("--format", a->format, "text or json");
    c->add_flag("--json", a->json_alias, "The same as --format json");
    c->footer(
        "Exit status: 0 staged, 64 usage (also: the key does not belong to the chain), 65 unsafe staging "
        "directory, 73 cannot write it, 75 another run holds its lock.");
    c->callback([a, &action] { action = [a] { return run_stage(*a); }; });
  }
  {
    auto a = std::make_shared<Args>();
    auto* c = roll->add_subcommand("deploy", "Install staged certificates whose precheck passes (hooks, timer)");
    c->add_option("--staged", a->staged, "The staging directory")->required();
    add_resolver_flags(*c, a->resolver);
    c->add_option("--state", a->state, "First-seen store (default ~/.local/state/danekit/state.db)");
    c->add_option("--margin", a->margin, "Seconds added to every cache wait (default 60)");
    c->add_option("--timeout", a->timeout, "Seconds for DNS and each probe (default 20)");
    c->add_option("--name", a->name, "Only this entry (default: every staged entry)");
    c->add_option("--lock-wait", a->lock_wait, "Seconds to wait for the staging directory's lock (default 60)");
    c->add_option("--format", a->format, "text or json (schema danekit.rollover-deploy/1)");
    c->add_flag("--json", a->json_alias, "The same as --format json");
    c->footer(
        "Exit status (the worst entry's): 0 deployed, or nothing staged; 1 refused: the precheck fails, kept "
        "staged, try later; 3 could not decide (DNS or a probe failed on our side), kept staged; 64 usage (also: "
        "no such staging directory); 65 bad staging data (malformed or unsafe entry or directory); 70 internal; "
        "73 a target could not be written (nothing replaced); 74 installed, but the reload command failed or "
        "timed out (kept staged); 75 another run holds the lock.");
    c->callback([a, &action] { action = [a] { return run_deploy(*a); }; });
  }
  {
    auto a = std::make_shared<Args>();
    auto* c = roll->add_subcommand("next-key", "Make the next key pair and its TLSA record");
    c->add_option("--out", a->out, "Where to write the new private key (PEM, mode 0600)")->required();
    c->add_option("--rsa", a->rsa, "RSA with this many bits (2048-8192) instead of ECDSA P-256");
    c->add_option("--host", a->host, "MX host, for the owner name and publishing");
    c->add_option("--port", a->port, "Port of the TLSA owner name (default 25)");
    add_resolver_flags(*c, a->resolver);
    c->add_option("--state", a->state, "First-seen store");
    publishing(c, *a);
    c->add_option("--format", a->format, "text, nsupdate or zone");
    c->callback([a, &action] { action = [a] { return run_next_key(*a); }; });
  }
}

}  // namespace danekit::cli
