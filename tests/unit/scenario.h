// Scenario building blocks for policy and report tests: a small DNS with
// security states and scripted servers, walked the way the orchestrator walks
// the ladder (src/check/check.cc), without I/O.
#pragma once

#include <arpa/inet.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

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

// A small DNS and a set of servers; run() walks the ladder the way the
// orchestrator does, without I/O.
struct World {
  std::map<std::pair<std::string, std::uint16_t>, Answer> dns;
  // When set, replaces `server` and returns the whole probe result.
  std::function<ProbeResult(const ProbeRequest&)> probe;
  std::function<Outcome(const ProbeRequest&)> server = [](const ProbeRequest& r) {
    return r.mode == ProbeMode::dane ? Outcome::verified : Outcome::encrypted;
  };
  PolicyContext ctx;
  std::vector<std::string> queried;

  void add(Answer a) { dns[{a.qname, a.qtype}] = std::move(a); }
  Answer lookup(const std::string& name, std::uint16_t type) {
    queried.push_back(rrtype_name(type) + " " + name);
    auto it = dns.find({name, type});
    if (it != dns.end()) return it->second;
    return ans(name, type, S::secure, K::nxdomain);
  }
  CheckReport run(const std::string& domain) {
    Answer mx = lookup(domain, rrtype::MX);
    auto plan = plan_mx(domain, mx);
    std::vector<HostPlan> plans;
    std::vector<std::vector<ProbeResult>> probes;
    for (const auto& t : plan.stop ? std::vector<MxTarget>{} : plan.hosts) {
      HostFacts f;
      f.target = t;
      if (ctx.ipv4) f.a = lookup(t.host, rrtype::A);
      if (ctx.ipv6) f.aaaa = lookup(t.host, rrtype::AAAA);
      if (needs_cname_probe(f)) f.cname = lookup(t.host, rrtype::CNAME);
      while (auto q = next_tlsa_query(f)) f.tlsa.push_back(lookup(*q, rrtype::TLSA));
      auto hp = plan_host(domain, plan.mx_security, f, ctx);
      std::vector<ProbeResult> results;
      if (hp.probe) {
        for (const auto& addr : hp.addresses) {
          ProbeRequest req;
          req.address = addr;
          req.mode = hp.mode;
          req.records = hp.usable;
          req.tlsa_base = hp.report.tlsa_base;
          if (probe) {
            results.push_back(probe(req));
            continue;
          }
          ProbeResult p;
          p.address = addr;
          p.outcome = server(req);
          if (p.outcome == Outcome::verified && !req.records.empty()) {
            p.matched = req.records.front();  // what OpenSSL reports on a match
            p.match_depth = req.records.front().usage == usage::dane_ee ? 0 : 1;
          }
          results.push_back(p);
        }
      }
      plans.push_back(std::move(hp));
      probes.push_back(std::move(results));
    }
    return decide(domain, mx, plan, std::move(plans), std::move(probes), ctx);
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
