// check_domain: the RFC 7672 ladder (src/policy, pure) driven through the
// seams. Every step has its own bound (a lookup: dns_timeout, a probe: the
// whole exchange within `timeout`), counted from when the step starts, so
// time spent waiting for the engine's own limits is never charged to the
// domain.
#include "check/orchestrator.h"

#include <chrono>
#include <functional>
#include <memory>

#include "danekit/sts_policy.h"
#include "dns/unbound/wire.h"
#include "net/gather.h"

namespace danekit {

namespace asio = boost::asio;

namespace {

// TLS 1.2 and 1.3 signature algorithms of one key type (RFC 8446 §4.2.3).
constexpr const char* kRsaSigalgs =
    "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:rsa_pkcs1_sha256:rsa_pkcs1_sha384:rsa_pkcs1_sha512";
constexpr const char* kEcdsaSigalgs = "ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512";

struct Done {};

struct Job {
  Resolver& resolver;
  Prober& prober;
  const CheckOptions& opt;
  PolicyContext policy;
  std::string local_cause;

  // The DANE part's facts, then the MTA-STS part's.
  Answer mx;
  MxPlan mx_plan;
  std::vector<HostPlan> plans;
  std::vector<std::vector<ProbeResult>> probes;
  StsFacts sts;

  void note(const std::string& cause) {
    if (local_cause.empty() && !cause.empty()) local_cause = cause;
  }

  asio::awaitable<Answer> lookup(std::string name, std::uint16_t type) {
    Answer a = co_await resolver.resolve(std::move(name), type, opt.dns_timeout);
    note(a.local_cause);
    co_return a;
  }

  asio::awaitable<HostPlan> host(std::string domain, Security mx_security, MxTarget target) {
    HostFacts f;
    f.target = target;
    // The TLSA RRset of the name itself is the ladder's usual next question;
    // asking it alongside A/AAAA saves a round trip (used only if the rules
    // allow, RFC 7672 §2.2).
    std::string owner = "_" + std::to_string(opt.port) + "._tcp." + target.host;
    if (owner.size() + 2 <= 255) resolver.prefetch(owner, rrtype::TLSA, opt.dns_timeout);
    std::vector<std::function<asio::awaitable<Answer>()>> families;
    if (policy.ipv4) families.push_back([this, target] { return lookup(target.host, rrtype::A); });
    if (policy.ipv6) families.push_back([this, target] { return lookup(target.host, rrtype::AAAA); });
    auto answers = co_await gather(std::move(families));
    std::size_t k = 0;
    if (policy.ipv4) f.a = answers[k++];
    if (policy.ipv6) f.aaaa = answers[k++];
    if (needs_cname_probe(f)) f.cname = co_await lookup(target.host, rrtype::CNAME);
    while (auto q = next_tlsa_query(f)) f.tlsa.push_back(co_await lookup(*q, rrtype::TLSA));
    co_return plan_host(domain, mx_security, f, policy);
  }

  asio::awaitable<ProbeResult> probe(ProbeRequest req) {
    ProbeResult r = co_await prober.probe(std::move(req), policy.now);
    note(r.local_cause);
    co_return r;
  }

  // A server may hold an RSA and an ECDSA certificate and pick by the
  // signature algorithms a client offers; senders differ in what they offer
  // (danecheck --sigalgs asks the same way). For each DANE address that
  // completed TLS, offer only the other key type's algorithms once more and
  // keep what that served when it is another certificate.
  asio::awaitable<void> other_certificates(const std::vector<HostPlan>& plans, const std::vector<std::size_t>& owner,
                                           const std::vector<ProbeRequest>& requests,
                                           std::vector<ProbeResult>& results) {
    std::vector<std::function<asio::awaitable<ProbeResult>()>> work;
    std::vector<std::pair<std::size_t, std::string>> which;
    for (std::size_t k = 0; k < results.size(); ++k) {
      const auto& r = results[k];
      if (plans[owner[k]].mode != ProbeMode::dane || r.chain.empty() || !r.local_cause.empty()) continue;
      const auto& type = r.chain.front().key_type;
      std::string offer = type.rfind("EC", 0) == 0 ? "rsa" : type.rfind("RSA", 0) == 0 ? "ecdsa" : "";
      if (offer.empty()) continue;
      ProbeRequest req = requests[k];
      req.sigalgs = offer == "rsa" ? kRsaSigalgs : kEcdsaSigalgs;
      work.push_back([this, req] { return probe(req); });
      which.emplace_back(k, offer);
    }
    if (work.empty() || !opt.other_certificate) co_return;
    auto others = co_await gather(std::move(work));
    for (std::size_t j = 0; j < others.size(); ++j) {
      auto& main = results[which[j].first];
      const auto& o = others[j];
      // A server with one certificate fails the handshake or serves the same leaf.
      if (o.chain.empty() || o.chain.front().der == main.chain.front().der) continue;
      ProbeResult::Alternate alt;
      alt.offer = which[j].second;
      alt.outcome = o.outcome;
      alt.chain = o.chain;
      alt.matched = o.matched;
      alt.match_depth = o.match_depth;
      alt.detail = o.detail;
      main.alternate = std::move(alt);
    }
  }

  asio::awaitable<Done> dane_part(std::string domain) {
    mx = co_await lookup(domain, rrtype::MX);
    mx_plan = plan_mx(domain, mx);
    if (mx_plan.stop) co_return Done{};
    std::vector<std::function<asio::awaitable<HostPlan>()>> hosts;
    for (const auto& t : mx_plan.hosts)
      hosts.push_back([this, domain, sec = mx_plan.mx_security, t] { return host(domain, sec, t); });
    plans = co_await gather(std::move(hosts));

    // Every address of every host at once; results are regrouped per host.
    std::vector<std::function<asio::awaitable<ProbeResult>()>> work;
    std::vector<std::size_t> owner;
    std::vector<ProbeRequest> work_requests;
    for (std::size_t i = 0; i < plans.size(); ++i) {
      if (!plans[i].probe) continue;
      for (const auto& address : plans[i].addresses) {
        ProbeRequest req = request(address, plans[i].report.tlsa_base);
        req.mode = plans[i].mode;
        req.records = plans[i].usable;
        req.extra_names = plans[i].extra_names;
        // The Web PKI judgment for MTA-STS rides on this session when its SNI
        // is the MX host name (offline, after the DANE verification).
        if (opt.mta_sts && plans[i].report.tlsa_base == plans[i].report.host) req.pkix_name = plans[i].report.host;
        work.push_back([this, req] { return probe(req); });
        work_requests.push_back(req);
        owner.push_back(i);
      }
    }
    auto results = co_await gather(std::move(work));
    co_await other_certificates(plans, owner, work_requests, results);
    probes.resize(plans.size());
    for (std::size_t k = 0; k < results.size(); ++k) probes[owner[k]].push_back(std::move(results[k]));
    co_return Done{};
  }

  ProbeRequest request(const std::string& address, const std::string& sni) const {
    ProbeRequest req;
    req.address = address;
    req.port = opt.port;
    req.tlsa_base = sni;
    req.helo = opt.helo;
    req.connect_timeout = opt.connect_timeout;
    req.command_timeout = opt.command_timeout;
    req.total_timeout = opt.timeout;
    return req;
  }

  asio::awaitable<Answer> txt(std::string name) {
    if (name.size() > 253) {
      Answer a;
      a.qname = name;
      a.qtype = rrtype::TXT;
      a.security = Security::insecure;
      a.kind = AnswerKind::nxdomain;
      a.detail = "the name is longer than 253 characters: no sender can look it up";
      co_return a;
    }
    co_return co_await lookup(std::move(name), rrtype::TXT);
  }

  // MTA-STS and TLS-RPT: the two TXT records, then the policy host's
  // addresses and the fetch (RFC 8461 §3.3), alongside the DANE part.
  asio::awaitable<Done> sts_part(std::string domain) {
    sts.checked = true;
    std::vector<std::function<asio::awaitable<Answer>()>> records;
    records.push_back([this, domain] { return txt("_mta-sts." + domain); });
    records.push_back([this, domain] { return txt("_smtp._tls." + domain); });
    auto answers = co_await gather(std::move(records));
    sts.sts_txt = std::move(answers[0]);
    sts.rpt_txt = std::move(answers[1]);
    if (!sts_record_allows_fetch(sts.sts_txt)) co_return Done{};
    sts.policy_host = "mta-sts." + domain;
    if (sts.policy_host.size() > 253) co_return Done{};
    std::vector<std::function<asio::awaitable<Answer>()>> families;
    if (policy.ipv4) families.push_back([this] { return lookup(sts.policy_host, rrtype::A); });
    if (policy.ipv6) families.push_back([this] { return lookup(sts.policy_host, rrtype::AAAA); });
    auto found = co_await gather(std::move(families));
    std::size_t k = 0;
    if (policy.ipv4) sts.policy_a = found[k++];
    if (policy.ipv6) sts.policy_aaaa = found[k++];
    HttpsFetchRequest req;
    req.host = sts.policy_host;
    req.ca_file = opt.ca_file;
    req.timeout = opt.command_timeout;
    for (const auto& a : found) {
      if (a.failed()) continue;
      for (const auto& rd : a.rdata)
        if (auto addr = parse_address_rdata(a.qtype, rd)) req.addresses.push_back(*addr);
    }
    if (req.addresses.empty()) co_return Done{};
    HttpsFetchResult r = co_await prober.fetch(std::move(req));
    StsFetchFacts f;
    f.outcome = to_string(r.outcome);
    f.address = r.address;
    f.status = r.status;
    f.content_type = r.content_type;
    f.location = r.location;
    f.body = std::move(r.body);
    f.detail = r.detail;
    sts.fetch = std::move(f);
    co_return Done{};
  }

  // The sessions an MTA-STS sender has where the DANE sender's do not serve:
  // hosts a DANE sender does not connect to, and, when a policy came back,
  // hosts whose DANE session used another SNI than the MX host name.
  asio::awaitable<std::vector<std::vector<ProbeResult>>> sts_sessions() {
    std::vector<std::vector<ProbeResult>> out(plans.size());
    bool policy_fetched = sts.fetch && sts.fetch->outcome == "ok";
    std::vector<std::function<asio::awaitable<ProbeResult>()>> work;
    std::vector<std::size_t> owner;
    for (std::size_t i = 0; i < plans.size(); ++i) {
      const auto& r = plans[i].report;
      bool need = !plans[i].probe || (policy_fetched && r.tlsa_base != r.host);
      if (!need || plans[i].addresses.empty()) continue;
      for (const auto& address : plans[i].addresses) {
        ProbeRequest req = request(address, r.host);
        req.mode = ProbeMode::opportunistic;
        req.pkix_name = r.host;
        work.push_back([this, req] { return probe(req); });
        owner.push_back(i);
      }
    }
    if (work.empty()) co_return out;
    auto results = co_await gather(std::move(work));
    for (std::size_t k = 0; k < results.size(); ++k) out[owner[k]].push_back(std::move(results[k]));
    co_return out;
  }

  asio::awaitable<CheckReport> run(std::string domain) {
    std::vector<std::function<asio::awaitable<Done>()>> parts;
    parts.push_back([this, domain] { return dane_part(domain); });
    if (opt.mta_sts) parts.push_back([this, domain] { return sts_part(domain); });
    co_await gather(std::move(parts));
    std::vector<std::vector<ProbeResult>> extra;
    if (opt.mta_sts && !mx_plan.stop) extra = co_await sts_sessions();
    CheckReport rep = decide(domain, mx, mx_plan, std::move(plans), std::move(probes), policy);
    for (std::size_t i = 0; i < extra.size() && i < rep.mx.size(); ++i) {
      if (extra[i].size() == rep.mx[i].addresses.size()) rep.mx[i].sts_sessions = std::move(extra[i]);
    }
    apply_sts(rep, sts);
    co_return rep;
  }
};

}  // namespace

asio::awaitable<DomainResult> check_domain(std::string domain, Resolver& resolver, Prober& prober, const Clock& clock,
                                           const CheckOptions& options) {
  auto started = std::chrono::steady_clock::now();
  auto job = std::make_unique<Job>(Job{resolver, prober, options, options.policy, {}});
  if (job->policy.now == 0) job->policy.now = clock.now();
  DomainResult out;
  out.report = co_await job->run(std::move(domain));
  out.report.elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  out.local_cause = job->local_cause;
  co_return out;
}

}  // namespace danekit
