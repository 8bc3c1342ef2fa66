// Scenario building blocks for policy and report tests: a small DNS with
// security states and scripted servers behind fakes of the orchestrator's
// seams (Resolver, Prober, Clock), so every scenario runs the real
// orchestrator, without I/O.
#pragma once

#include <arpa/inet.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>

#include "check/orchestrator.h"
#include "danekit/policy.h"

namespace danekit::scenario {

using S = Security;
using K = AnswerKind;

inline std::vector<std::uint8_t> name_wire(const std::string& name) {
  std::vector<std::uint8_t> out;
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  out.push_back(0);
  return out;
}

inline std::vector<std::uint8_t> mx_rd(int pref, const std::string& host) {
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(pref >> 8), static_cast<std::uint8_t>(pref & 0xff)};
  auto n = name_wire(host);
  out.insert(out.end(), n.begin(), n.end());
  return out;
}

inline std::vector<std::uint8_t> a_rd(const std::string& addr) {
  std::vector<std::uint8_t> out(addr.find(':') == std::string::npos ? 4 : 16);
  inet_pton(out.size() == 4 ? AF_INET : AF_INET6, addr.c_str(), out.data());
  return out;
}

inline const std::vector<std::uint8_t> key_a(32, 0xaa);
inline std::vector<std::uint8_t> tlsa_rd(int u, int s, int m, std::vector<std::uint8_t> data = key_a) {
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(u), static_cast<std::uint8_t>(s),
                                static_cast<std::uint8_t>(m)};
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

inline Answer ans(std::string name, std::uint16_t type, S sec, K kind,
                  std::vector<std::vector<std::uint8_t>> rdata = {}, std::vector<std::string> cnames = {}) {
  Answer a;
  a.qname = std::move(name);
  a.qtype = type;
  a.security = sec;
  a.kind = kind;
  a.rdata = std::move(rdata);
  a.cname_targets = std::move(cnames);
  a.ttl = 300;
  return a;
}

// A small DNS and a set of servers behind the orchestrator's seams; run()
// drives the real orchestrator (src/check/orchestrator.cc) over them.
struct World {
  std::map<std::pair<std::string, std::uint16_t>, Answer> dns;
  // When set, replaces `server` and returns the whole probe result.
  std::function<ProbeResult(const ProbeRequest&)> probe;
  std::function<Outcome(const ProbeRequest&)> server = [](const ProbeRequest& r) {
    return r.mode == ProbeMode::dane ? Outcome::verified : Outcome::encrypted;
  };
  // Its servers sit in 192.0.2.0/24 (documentation): the special-purpose flag
  // is off unless a test turns it on.
  PolicyContext ctx = [] {
    PolicyContext c;
    c.flag_special_addresses = false;
    return c;
  }();
  std::vector<std::string> queried;  // what the ladder asked, in order
  std::vector<ProbeRequest> probed;  // what the orchestrator asked the prober
  // MTA-STS (off unless a test turns it on): the policy server, and the Web
  // PKI judgment of a probe with a pkix_name (default: valid).
  bool mta_sts = false;
  std::function<HttpsFetchResult(const HttpsFetchRequest&)> policy_server = [](const HttpsFetchRequest&) {
    HttpsFetchResult r;
    r.outcome = FetchOutcome::connect_failed;
    r.detail = "connection refused";
    return r;
  };
  std::function<Pkix(const ProbeRequest&)> webpki = [](const ProbeRequest&) { return Pkix::valid; };
  std::vector<HttpsFetchRequest> fetched;

  void add(Answer a) { dns[{a.qname, a.qtype}] = std::move(a); }
  Answer lookup(const std::string& name, std::uint16_t type) {
    queried.push_back(rrtype_name(type) + " " + name);
    auto it = dns.find({name, type});
    if (it != dns.end()) return it->second;
    return ans(name, type, S::secure, K::nxdomain);
  }
  ProbeResult serve(const ProbeRequest& req) {
    probed.push_back(req);
    if (probe) return probe(req);
    ProbeResult p;
    p.address = req.address;
    p.outcome = server(req);
    if (!req.pkix_name.empty() && p.outcome != Outcome::unreachable && p.outcome != Outcome::no_starttls) {
      p.pkix = webpki(req);
      p.pkix_detail =
          p.pkix == Pkix::valid ? "valid for " + req.pkix_name : "the certificate does not name " + req.pkix_name;
    }
    if (p.outcome == Outcome::verified && !req.records.empty()) {
      p.matched = req.records.front();  // what OpenSSL reports on a match
      p.match_depth = req.records.front().usage == usage::dane_ee ? 0 : 1;
    }
    return p;
  }

  struct FakeResolver : Resolver {
    World& w;
    explicit FakeResolver(World& world) : w(world) {}
    boost::asio::awaitable<Answer> resolve(std::string name, std::uint16_t type, std::chrono::milliseconds) override {
      co_return w.lookup(name, type);
    }
  };
  struct FakeProber : Prober {
    World& w;
    explicit FakeProber(World& world) : w(world) {}
    boost::asio::awaitable<ProbeResult> probe(ProbeRequest req, std::int64_t) override { co_return w.serve(req); }
    boost::asio::awaitable<HttpsFetchResult> fetch(HttpsFetchRequest req) override {
      w.fetched.push_back(req);
      co_return w.policy_server(req);
    }
  };
  struct FixedClock : Clock {
    std::int64_t t;
    explicit FixedClock(std::int64_t at) : t(at) {}
    std::int64_t now() const override { return t; }
  };

  CheckReport run(const std::string& domain) {
    boost::asio::io_context io;
    FakeResolver resolver(*this);
    FakeProber prober(*this);
    FixedClock clock(ctx.now ? ctx.now : 1800000000);
    CheckOptions opt;
    opt.policy = ctx;
    opt.mta_sts = mta_sts;
    std::optional<DomainResult> out;
    std::exception_ptr error;
    boost::asio::co_spawn(io, check_domain(domain, resolver, prober, clock, opt),
                          [&](std::exception_ptr e, DomainResult r) {
                            error = e;
                            out = std::move(r);
                          });
    io.run();
    if (error) std::rethrow_exception(error);
    out->report.elapsed_ms = 0;
    return std::move(out->report);
  }
  // One signed MX host with one address and a 3 1 1 record.
  void dane_host(const std::string& host, const std::string& addr, S tlsa_sec = S::secure) {
    add(ans(host, rrtype::A, S::secure, K::data, {a_rd(addr)}));
    add(ans(host, rrtype::AAAA, S::secure, K::nodata));
    add(ans("_25._tcp." + host, rrtype::TLSA, tlsa_sec, K::data, {tlsa_rd(3, 1, 1)}));
  }
  void plain_host(const std::string& host, const std::string& addr, S sec = S::secure) {
    add(ans(host, rrtype::A, sec, K::data, {a_rd(addr)}));
    add(ans(host, rrtype::AAAA, sec, K::nodata));
    add(ans("_25._tcp." + host, rrtype::TLSA, sec, K::nxdomain));
  }
  void mx(const std::string& domain, std::vector<std::pair<int, std::string>> hosts, S sec = S::secure) {
    std::vector<std::vector<std::uint8_t>> rd;
    for (const auto& [p, h] : hosts) rd.push_back(mx_rd(p, h));
    add(ans(domain, rrtype::MX, sec, K::data, rd));
  }
};

}  // namespace danekit::scenario
