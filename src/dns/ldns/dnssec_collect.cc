// run_dnssec_audit: the collector behind `danekit dnssec` (danekit/dnssec_audit.h).
//
// How the zones are found: a referral walk from the root servers (the
// --root-hints file, or the root NS set through the validating resolver),
// asking each zone's servers directly for the target name. A walk sees the
// delegations as a resolver does, also where validation fails (a bogus zone's
// NS and glue are still served), which NS lookups through a validating
// resolver would hide. The validating resolver is still used for the MX RRset
// (what a DANE sender acts on) and for NS names without glue.
//
// Every zone on a chain is then asked, on every address of every NS name, over
// UDP and TCP: SOA, DNSKEY, NSEC3PARAM; its parent's servers the DS; the zone
// holding a leaf name the leaf's MX, A, AAAA or TLSA. All queries are RD=0,
// DO=1, EDNS 1232; each has its own timeout, and all of them one deadline.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "danekit/dnssec_audit.h"
#include "danekit/keys.h"
#include "dns/unbound/unbound_resolver.h"
#include "dns/unbound/wire.h"
#include "net/async_semaphore.h"
#include "net/gather.h"

// ldns's headers redefine `bool` for C; they come after every C++ header.
#include <ldns/ldns.h>

namespace danekit {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

constexpr const char* builtin_root_anchors[] = {
    // The same IANA root KSKs as the resolver's (src/dns/unbound/unbound_resolver.cc).
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
};
constexpr std::size_t max_reply = 65535;
constexpr std::size_t max_in_flight = 16;
constexpr int max_depth = 32;

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

std::string lower_no_dot(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

std::string name_of(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  std::string out = s ? s : "";
  free(s);
  return lower_no_dot(out);
}

std::string address_of(const ldns_rr* rr) {
  if (ldns_rr_rd_count(rr) < 1) return {};
  char* s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
  std::string out = s ? s : "";
  free(s);
  return out;
}

bool in_zone(const std::string& name, const std::string& zone) {
  if (zone == "." || name == zone) return true;
  return name.size() > zone.size() && name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
         name[name.size() - zone.size() - 1] == '.';
}

int labels(const std::string& name) {
  if (name == ".") return 0;
  return 1 + static_cast<int>(std::count(name.begin(), name.end(), '.'));
}

Pkt parse(const std::vector<std::uint8_t>& wire) {
  ldns_pkt* p = nullptr;
  if (wire.empty() || ldns_wire2pkt(&p, wire.data(), wire.size()) != LDNS_STATUS_OK) return nullptr;
  return Pkt(p);
}

struct ZoneInfo {
  std::string parent;
  std::vector<std::string> names;          // NS names, capped
  std::vector<NameServerAddress> servers;  // addresses, capped
  std::vector<std::string> without_address;
  bool resolved = false;  // addresses of names without glue looked up
};

struct Collector {
  asio::any_io_executor ex;
  UnboundResolver& resolver;
  const DnssecCollectOptions& opt;
  steady::time_point deadline;
  AsyncSemaphore slots;
  std::map<std::string, ZoneInfo> zones;
  std::vector<std::string> notes;
  std::string local_error;
  Collector(asio::any_io_executor e, UnboundResolver& r, const DnssecCollectOptions& o)
      : ex(e), resolver(r), opt(o), deadline(steady::now() + o.deadline), slots(e, max_in_flight) {}

  std::chrono::milliseconds budget() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    return std::max(std::chrono::milliseconds(0), std::min(left, opt.query_timeout));
  }
  void note(std::string n) {
    if (notes.size() < 32 && std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(std::move(n));
  }
};

std::vector<std::uint8_t> make_query(const std::string& qname, std::uint16_t qtype, std::uint16_t& id) {
  std::vector<std::uint8_t> out;
  ldns_pkt* pkt = nullptr;
  std::string fq = qname == "." ? "." : qname + ".";
  if (ldns_pkt_query_new_frm_str(&pkt, fq.c_str(), static_cast<ldns_rr_type>(qtype), LDNS_RR_CLASS_IN, 0) !=
          LDNS_STATUS_OK ||
      !pkt)
    return out;
  ldns_pkt_set_random_id(pkt);
  ldns_pkt_set_rd(pkt, false);
  ldns_pkt_set_edns_udp_size(pkt, 1232);
  ldns_pkt_set_edns_do(pkt, true);
  id = ldns_pkt_id(pkt);
  std::uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt, &size) == LDNS_STATUS_OK && wire) out.assign(wire, wire + size);
  free(wire);
  ldns_pkt_free(pkt);
  return out;
}

bool local_errno(const boost::system::error_code& ec) {
  int v = ec.value();
  return ec.category() == boost::system::system_category() &&
         (v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM || v == EADDRNOTAVAIL || v == EAFNOSUPPORT);
}

void fail(DnsExchange& e, const boost::system::error_code& ec, bool timed_out) {
  if (timed_out) {
    e.failure = "timeout";
    e.detail = "no answer in time";
  } else if (local_errno(ec)) {
    e.failure = "local";
    e.detail = ec.message();
  } else {
    e.failure = "unreachable";
    e.detail = ec.message();
  }
}

// A socket closed by a timer when its time is up: every wait ends on time.
template <class Socket>
struct Watchdog {
  asio::steady_timer timer;
  std::shared_ptr<bool> fired = std::make_shared<bool>(false);
  Watchdog(asio::any_io_executor ex, Socket& s, std::chrono::milliseconds budget) : timer(ex) {
    timer.expires_after(budget);
    timer.async_wait([&s, f = fired](boost::system::error_code ec) {
      if (ec) return;
      *f = true;
      boost::system::error_code ignored;
      s.close(ignored);
    });
  }
  ~Watchdog() { timer.cancel(); }
};

asio::awaitable<DnsExchange> exchange_udp(Collector& c, DnsExchange e, asio::ip::address addr) {
  std::uint16_t id = 0;
  auto query = make_query(e.qname, e.qtype, id);
  auto budget = c.budget();
  if (query.empty() || budget.count() == 0) {
    // Not the server's fault: our deadline (or our encoder) stopped the query.
    e.failure = query.empty() ? "unsent" : "deadline";
    e.detail = query.empty() ? "cannot encode the query" : "the audit's deadline passed";
    co_return e;
  }
  asio::ip::udp::socket s(c.ex);
  asio::ip::udp::endpoint ep(addr, c.opt.dns_port);
  boost::system::error_code ec;
  s.open(ep.protocol(), ec);
  if (!ec) s.connect(ep, ec);  // connected: ICMP errors come back as ECONNREFUSED
  if (ec) {
    fail(e, ec, false);
    co_return e;
  }
  Watchdog<asio::ip::udp::socket> dog(c.ex, s, budget);
  co_await s.async_send(asio::buffer(query), asio::redirect_error(asio::use_awaitable, ec));
  std::vector<std::uint8_t> buf(max_reply);
  for (int tries = 0; !ec && tries < 8; ++tries) {
    std::size_t n = co_await s.async_receive(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    if (n < 12 || (buf[0] << 8 | buf[1]) != id) continue;  // not our reply: keep waiting
    e.reply.assign(buf.begin(), buf.begin() + static_cast<long>(n));
    if (!parse(e.reply)) {
      e.reply.clear();
      e.failure = "malformed";
      e.detail = "unparsable reply";
    }
    co_return e;
  }
  fail(e, ec ? ec : asio::error::timed_out, *dog.fired || !ec);
  co_return e;
}

asio::awaitable<DnsExchange> exchange_tcp(Collector& c, DnsExchange e, asio::ip::address addr) {
  std::uint16_t id = 0;
  auto query = make_query(e.qname, e.qtype, id);
  auto budget = c.budget();
  if (query.empty() || budget.count() == 0) {
    // Not the server's fault: our deadline (or our encoder) stopped the query.
    e.failure = query.empty() ? "unsent" : "deadline";
    e.detail = query.empty() ? "cannot encode the query" : "the audit's deadline passed";
    co_return e;
  }
  asio::ip::tcp::socket s(c.ex);
  asio::ip::tcp::endpoint ep(addr, c.opt.dns_port);
  boost::system::error_code ec;
  s.open(ep.protocol(), ec);
  if (ec) {
    fail(e, ec, false);
    co_return e;
  }
  Watchdog<asio::ip::tcp::socket> dog(c.ex, s, budget);
  co_await s.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    std::vector<std::uint8_t> framed{static_cast<std::uint8_t>(query.size() >> 8),
                                     static_cast<std::uint8_t>(query.size() & 0xff)};
    framed.insert(framed.end(), query.begin(), query.end());
    co_await asio::async_write(s, asio::buffer(framed), asio::redirect_error(asio::use_awaitable, ec));
  }
  std::uint8_t len[2];
  if (!ec) co_await asio::async_read(s, asio::buffer(len), asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    std::size_t n = static_cast<std::size_t>(len[0] << 8 | len[1]);
    std::vector<std::uint8_t> buf(n);
    co_await asio::async_read(s, asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      if (n < 12 || (buf[0] << 8 | buf[1]) != id || !parse(buf)) {
        e.failure = "malformed";
        e.detail = "unparsable or unrelated reply";
      } else {
        e.reply = std::move(buf);
      }
      co_return e;
    }
  }
  fail(e, ec, *dog.fired);
  co_return e;
}

asio::awaitable<DnsExchange> exchange(Collector& c, NameServerAddress ns, DnsTransport t, std::string qname,
                                      std::uint16_t qtype) {
  DnsExchange e;
  e.server = ns.name;
  e.address = ns.address;
  e.transport = t;
  e.qname = qname;
  e.qtype = qtype;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(ns.address, ec);
  if (ec) {
    e.failure = "unreachable";
    e.detail = "not an address";
    co_return e;
  }
  co_await c.slots.acquire();
  SemaphoreSlot slot(c.slots);
  // (No co_await inside ?: — GCC 12 mis-destroys the temporaries.)
  DnsExchange out;
  if (t == DnsTransport::udp) {
    out = co_await exchange_udp(c, std::move(e), addr);
  } else {
    out = co_await exchange_tcp(c, std::move(e), addr);
  }
  if (out.failure == "local" && c.local_error.empty()) c.local_error = out.detail;
  co_return out;
}

// Addresses of NS names that came without glue, through the validating
// resolver (its answer's data; a bogus answer has none).
asio::awaitable<void> resolve_names(Collector& c, ZoneInfo& z) {
  if (z.resolved) co_return;
  z.resolved = true;
  for (const auto& name : z.names) {
    bool have = std::any_of(z.servers.begin(), z.servers.end(), [&](const auto& s) { return s.name == name; });
    if (have) continue;
    for (auto type : {rrtype::A, rrtype::AAAA}) {
      if (z.servers.size() >= c.opt.max_addresses) break;
      auto a = co_await c.resolver.resolve(name, type, c.budget());
      if (!a.local_cause.empty() && c.local_error.empty()) c.local_error = a.detail;
      for (const auto& rd : a.rdata)
        if (auto addr = parse_address_rdata(type, rd); addr && z.servers.size() < c.opt.max_addresses)
          z.servers.push_back({name, *addr});
    }
    have = std::any_of(z.servers.begin(), z.servers.end(), [&](const auto& s) { return s.name == name; });
    if (!have) z.without_address.push_back(name);
  }
}

// NS names and addresses from a reply section (NS RRset of `owner`, glue in
// `additional`), added to `z` within the caps.
void take_ns(Collector& c, ZoneInfo& z, const std::string& owner, const ldns_rr_list* section,
             const ldns_rr_list* additional) {
  for (size_t i = 0; section && i < ldns_rr_list_rr_count(section); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(section, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || name_of(ldns_rr_owner(rr)) != owner || ldns_rr_rd_count(rr) < 1)
      continue;
    std::string ns = name_of(ldns_rr_rdf(rr, 0));
    if (std::find(z.names.begin(), z.names.end(), ns) != z.names.end()) continue;
    if (z.names.size() >= c.opt.max_ns_names) {
      c.note(fmt::format("{}: more than {} NS names, the rest not audited", owner, c.opt.max_ns_names));
      continue;
    }
    z.names.push_back(ns);
  }
  for (size_t i = 0; additional && i < ldns_rr_list_rr_count(additional); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(additional, i);
    auto t = ldns_rr_get_type(rr);
    if (t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA) continue;
    std::string ns = name_of(ldns_rr_owner(rr));
    if (std::find(z.names.begin(), z.names.end(), ns) == z.names.end()) continue;
    std::string addr = address_of(rr);
    bool dup = std::any_of(z.servers.begin(), z.servers.end(), [&](const auto& s) { return s.address == addr; });
    if (dup || addr.empty()) continue;
    if (z.servers.size() >= c.opt.max_addresses) {
      c.note(fmt::format("{}: more than {} server addresses, the rest not audited", owner, c.opt.max_addresses));
      continue;
    }
    z.servers.push_back({ns, addr});
  }
}

// The first usable reply from any of `servers` (UDP, then TCP when truncated).
asio::awaitable<Pkt> ask_any(Collector& c, std::vector<NameServerAddress> servers, std::string qname,
                             std::uint16_t qtype) {
  int tries = 0;
  for (const auto& s : servers) {
    if (++tries > 8) break;
    DnsExchange e = co_await exchange(c, s, DnsTransport::udp, qname, qtype);
    Pkt p = parse(e.reply);
    if (p && ldns_pkt_tc(p.get())) {
      DnsExchange t = co_await exchange(c, s, DnsTransport::tcp, qname, qtype);
      p = parse(t.reply);
    }
    if (!p) continue;
    auto rc = ldns_pkt_get_rcode(p.get());
    if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN) continue;
    co_return p;
  }
  co_return nullptr;
}

// The zone `name` is in, found by following referrals down from the deepest
// zone already known above it.
asio::awaitable<std::string> find_zone(Collector& c, std::string name) {
  std::string zone = ".";
  for (const auto& [z, info] : c.zones)
    if (in_zone(name, z) && labels(z) > labels(zone)) zone = z;
  for (int depth = 0; depth < max_depth; ++depth) {
    if (name == zone) co_return zone;
    co_await resolve_names(c, c.zones[zone]);
    auto servers = c.zones[zone].servers;
    if (servers.empty()) {
      c.note(fmt::format("{}: no server address; the walk to {} stops there", zone, name));
      co_return zone;
    }
    Pkt p = co_await ask_any(c, servers, name, rrtype::SOA);
    if (!p) {
      c.note(fmt::format("no server of {} answered; the walk to {} stops there", zone, name));
      co_return zone;
    }
    std::string child;
    if (ldns_pkt_aa(p.get())) {
      // Authoritative. A server that also serves a child zone answers from
      // the child: its SOA names the zone that holds `name`.
      for (auto* list : {ldns_pkt_answer(p.get()), ldns_pkt_authority(p.get())})
        for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
          const ldns_rr* rr = ldns_rr_list_rr(list, i);
          if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA) continue;
          std::string owner = name_of(ldns_rr_owner(rr));
          if (owner != zone && in_zone(owner, zone) && in_zone(name, owner)) child = owner;
        }
      if (child.empty()) co_return zone;
      if (!c.zones.count(child) && c.zones.size() < c.opt.max_zones) {
        ZoneInfo info;
        info.parent = zone;
        if (Pkt ns = co_await ask_any(c, servers, child, LDNS_RR_TYPE_NS))
          take_ns(c, info, child, ldns_pkt_answer(ns.get()), ldns_pkt_additional(ns.get()));
        c.zones[child] = std::move(info);
      }
      if (!c.zones.count(child)) co_return zone;
      zone = child;
      continue;
    }
    auto* auth = ldns_pkt_authority(p.get());
    for (size_t i = 0; auth && i < ldns_rr_list_rr_count(auth); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(auth, i);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS) continue;
      std::string owner = name_of(ldns_rr_owner(rr));
      if (owner != zone && in_zone(owner, zone) && in_zone(name, owner)) child = owner;
    }
    if (child.empty()) co_return zone;
    if (!c.zones.count(child)) {
      if (c.zones.size() >= c.opt.max_zones) {
        c.note(fmt::format("more than {} zones; {} not audited", c.opt.max_zones, child));
        co_return zone;
      }
      ZoneInfo info;
      info.parent = zone;
      take_ns(c, info, child, auth, ldns_pkt_additional(p.get()));
      c.zones[child] = std::move(info);
    }
    zone = child;
  }
  co_return zone;
}

// The zone's own NS RRset adds names the parent's delegation may lack.
asio::awaitable<void> complete_ns(Collector& c, std::string zone) {
  auto& z = c.zones[zone];
  co_await resolve_names(c, z);
  Pkt p = co_await ask_any(c, z.servers, zone, LDNS_RR_TYPE_NS);
  if (!p) co_return;
  auto before = z.names.size();
  take_ns(c, z, zone, ldns_pkt_answer(p.get()), ldns_pkt_additional(p.get()));
  if (z.names.size() != before) {
    z.resolved = false;
    co_await resolve_names(c, z);
  }
}

std::vector<std::string> read_records(const std::string& path) {
  std::vector<std::string> out;
  auto bytes = read_file_bytes(path);
  if (!bytes || bytes->empty()) return out;
  FILE* f = fmemopen(bytes->data(), bytes->size(), "r");
  if (!f) return out;
  uint32_t ttl = 3600;
  ldns_rdf* origin = nullptr;
  ldns_rdf* prev = nullptr;
  int line = 1;
  while (!std::feof(f) && out.size() < 10000) {
    long before = std::ftell(f);
    ldns_rr* rr = nullptr;
    ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &origin, &prev, &line);
    if (st != LDNS_STATUS_OK) {
      if (std::ftell(f) == before) break;
      continue;
    }
    char* s = ldns_rr2str(rr);
    if (s) out.emplace_back(s);
    free(s);
    ldns_rr_free(rr);
  }
  if (origin) ldns_rdf_deep_free(origin);
  if (prev) ldns_rdf_deep_free(prev);
  std::fclose(f);
  return out;
}

// The root servers: from the hints file, or the root NS RRset through the resolver.
asio::awaitable<void> root_servers(Collector& c) {
  ZoneInfo root;
  if (!c.opt.resolver.root_hints_file.empty()) {
    for (const auto& line : read_records(c.opt.resolver.root_hints_file)) {
      ldns_rr* rr = nullptr;
      if (ldns_rr_new_frm_str(&rr, line.c_str(), 3600, nullptr, nullptr) != LDNS_STATUS_OK || !rr) continue;
      auto t = ldns_rr_get_type(rr);
      if (t == LDNS_RR_TYPE_NS && ldns_rr_rd_count(rr) > 0) {
        auto n = name_of(ldns_rr_rdf(rr, 0));
        if (root.names.size() < c.opt.max_ns_names &&
            std::find(root.names.begin(), root.names.end(), n) == root.names.end())
          root.names.push_back(n);
      }
      if ((t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) && root.servers.size() < c.opt.max_addresses)
        root.servers.push_back({name_of(ldns_rr_owner(rr)), address_of(rr)});
      ldns_rr_free(rr);
    }
    root.resolved = true;
  } else {
    auto a = co_await c.resolver.resolve(".", LDNS_RR_TYPE_NS, c.opt.query_timeout);
    if (!a.local_cause.empty()) c.local_error = a.detail;
    for (const auto& rd : a.rdata) {
      ldns_rdf* rdf = nullptr;
      size_t pos = 0;
      if (ldns_wire2dname(&rdf, rd.data(), rd.size(), &pos) != LDNS_STATUS_OK || !rdf) continue;
      if (root.names.size() < c.opt.max_ns_names) root.names.push_back(name_of(rdf));
      ldns_rdf_deep_free(rdf);
    }
  }
  c.zones["."] = std::move(root);
  co_await resolve_names(c, c.zones["."]);
}

struct Leaf {
  std::string name;
  std::uint16_t type;
};

asio::awaitable<void> collect(Collector& c, std::string domain, DnssecAuditInput& in) {
  co_await root_servers(c);
  if (c.zones["."].servers.empty()) {
    if (c.local_error.empty()) c.local_error = "no root server address (root hints or the resolver's root NS lookup)";
    co_return;
  }
  std::vector<Leaf> leaves{{domain, rrtype::MX}};
  // The MX RRset a sender acts on, through the validating resolver; when that
  // fails (bogus, SERVFAIL), what the domain's own servers serve.
  std::vector<std::string> hosts;
  auto mx = co_await c.resolver.resolve(domain, rrtype::MX, c.opt.query_timeout);
  if (!mx.local_cause.empty()) {
    c.local_error = mx.detail;
    co_return;
  }
  std::vector<std::vector<std::uint8_t>> rdata = mx.rdata;
  std::string domain_zone = co_await find_zone(c, domain);
  if (mx.kind == AnswerKind::failure) {
    c.note(fmt::format("the validated MX lookup for {} failed ({}); MX hosts taken from its name servers", domain,
                       mx.detail));
    Pkt p = co_await ask_any(c, c.zones[domain_zone].servers, domain, rrtype::MX);
    if (p) {
      auto* answer = ldns_pkt_answer(p.get());
      for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(answer, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_MX && ldns_rr_rd_count(rr) >= 2 &&
            name_of(ldns_rr_owner(rr)) == domain)
          hosts.push_back(name_of(ldns_rr_rdf(rr, 1)));
      }
    }
  } else if (mx.kind == AnswerKind::nodata) {
    hosts.push_back(domain);  // RFC 5321 §5.1: the domain itself
  }
  for (const auto& rd : rdata)
    if (auto m = parse_mx_rdata(rd); m && !m->host.empty()) hosts.push_back(m->host);
  // An MX host that is an alias: the sender looks for TLSA at the target too
  // (RFC 7672 §2.2.2), so the target's zone is on a chain.
  for (std::size_t i = 0, n = std::min(hosts.size(), c.opt.max_mx); i < n; ++i) {
    auto a = co_await c.resolver.resolve(hosts[i], rrtype::A, c.budget());
    if (!a.cname_targets.empty()) hosts.push_back(a.cname_targets.back());
  }
  std::sort(hosts.begin(), hosts.end());
  hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  if (hosts.size() > c.opt.max_mx) {
    c.note(fmt::format("{} MX hosts; only the first {} audited", hosts.size(), c.opt.max_mx));
    hosts.resize(c.opt.max_mx);
  }
  for (const auto& h : hosts) {
    if (h == "." || h.empty()) continue;
    leaves.push_back({h, rrtype::A});
    leaves.push_back({h, rrtype::AAAA});
    std::string owner = fmt::format("_{}._tcp.{}", c.opt.port, h);
    leaves.push_back({owner, rrtype::TLSA});
    // A TLSA owner that is an alias: its target's zone serves the records.
    auto t = co_await c.resolver.resolve(owner, rrtype::TLSA, c.budget());
    for (std::size_t i = 0; i < t.cname_targets.size() && i < 4; ++i)
      leaves.push_back({t.cname_targets[i], rrtype::TLSA});
  }
  std::map<std::string, std::vector<Leaf>> leaves_by_zone;
  for (const auto& l : leaves) {
    std::string z = domain_zone;
    if (l.name != domain) z = co_await find_zone(c, l.name);
    leaves_by_zone[z].push_back(l);
  }
  // Every zone on the chains, parents first.
  std::set<std::string> chain;
  for (const auto& [z, ls] : leaves_by_zone)
    for (std::string at = z; !at.empty() && chain.insert(at).second; at = c.zones[at].parent) {
    }
  std::vector<std::string> order(chain.begin(), chain.end());
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return labels(a) < labels(b); });
  for (const auto& z : order) co_await complete_ns(c, z);

  struct Planned {
    std::string zone;
    bool parent_side;
    NameServerAddress ns;
    DnsTransport t;
    std::string qname;
    std::uint16_t qtype;
  };
  std::vector<Planned> plan;
  for (const auto& z : order) {
    const auto& info = c.zones[z];
    for (const auto& ns : info.servers)
      for (auto t : {DnsTransport::udp, DnsTransport::tcp}) {
        for (std::uint16_t q :
             {rrtype::SOA, std::uint16_t(LDNS_RR_TYPE_DNSKEY), std::uint16_t(LDNS_RR_TYPE_NSEC3PARAM)})
          plan.push_back({z, false, ns, t, z, q});
        for (const auto& l : leaves_by_zone[z]) plan.push_back({z, false, ns, t, l.name, l.type});
      }
    if (!info.parent.empty())
      for (const auto& ns : c.zones[info.parent].servers)
        for (auto t : {DnsTransport::udp, DnsTransport::tcp})
          plan.push_back({z, true, ns, t, z, std::uint16_t(LDNS_RR_TYPE_DS)});
  }
  std::vector<std::function<asio::awaitable<DnsExchange>()>> work;
  for (const auto& p : plan) work.push_back([&c, p] { return exchange(c, p.ns, p.t, p.qname, p.qtype); });
  auto results = co_await gather(std::move(work));
  auto unsent =
      std::count_if(results.begin(), results.end(), [](const DnsExchange& e) { return e.failure == "deadline"; });
  if (unsent > 0)
    c.note(
        fmt::format("{} of {} queries not sent: the audit's deadline (--timeout) passed; those servers are not judged",
                    unsent, results.size()));
  for (const auto& z : order) {
    ZoneObservation obs;
    obs.zone = z;
    obs.parent = c.zones[z].parent;
    obs.servers = c.zones[z].servers;
    obs.names_without_address = c.zones[z].without_address;
    for (std::size_t i = 0; i < plan.size(); ++i) {
      if (plan[i].zone != z) continue;
      (plan[i].parent_side ? obs.parent_exchanges : obs.exchanges).push_back(std::move(results[i]));
    }
    in.zones.push_back(std::move(obs));
  }
}

asio::awaitable<void> collect_owner(Collector& c, std::string owner, std::uint16_t type, AuthoritativeLookup& out) {
  co_await root_servers(c);
  if (c.zones["."].servers.empty()) {
    out.error = "no root server address";
    co_return;
  }
  out.zone = co_await find_zone(c, owner);
  co_await complete_ns(c, out.zone);
  std::vector<std::function<asio::awaitable<DnsExchange>()>> work;
  const auto servers = c.zones[out.zone].servers;
  for (const auto& ns : servers) {
    work.push_back([&c, ns, owner, type] { return exchange(c, ns, DnsTransport::udp, owner, type); });
    work.push_back([&c, ns, owner, type] { return exchange(c, ns, DnsTransport::tcp, owner, type); });
  }
  auto results = co_await gather(std::move(work));
  for (std::size_t i = 0; i < servers.size(); ++i) {
    AuthoritativeAnswer a;
    a.name = servers[i].name;
    a.address = servers[i].address;
    a.failure = "no answer";
    // UDP unless truncated or failed; then TCP.
    for (const DnsExchange* e : {&results[2 * i], &results[2 * i + 1]}) {
      Pkt p = parse(e->reply);
      if (!p) {
        if (!e->failure.empty()) a.failure = e->failure;
        continue;
      }
      if (ldns_pkt_tc(p.get())) continue;
      auto rc = ldns_pkt_get_rcode(p.get());
      if (rc == LDNS_RCODE_REFUSED) {
        a.failure = "refused";
        continue;
      }
      if ((rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN) || !ldns_pkt_aa(p.get())) {
        a.failure = "not-authoritative";
        continue;
      }
      a.failure.clear();
      auto* answer = ldns_pkt_answer(p.get());
      for (size_t k = 0; answer && k < ldns_rr_list_rr_count(answer); ++k) {
        const ldns_rr* rr = ldns_rr_list_rr(answer, k);
        if (ldns_rr_get_type(rr) != type || name_of(ldns_rr_owner(rr)) != owner) continue;
        std::vector<std::uint8_t> rd;
        for (size_t f = 0; f < ldns_rr_rd_count(rr); ++f) {
          const ldns_rdf* rdf = ldns_rr_rdf(rr, f);
          rd.insert(rd.end(), ldns_rdf_data(rdf), ldns_rdf_data(rdf) + ldns_rdf_size(rdf));
        }
        a.rdata.push_back(std::move(rd));
      }
      break;
    }
    out.servers.push_back(std::move(a));
  }
}

}  // namespace

AuthoritativeLookup query_authoritative(const std::string& owner, std::uint16_t type,
                                        const DnssecCollectOptions& options) {
  asio::io_context io;
  UnboundResolver resolver(io.get_executor(), options.resolver);
  Collector c(io.get_executor(), resolver, options);
  AuthoritativeLookup out;
  std::exception_ptr failure;
  asio::co_spawn(io, collect_owner(c, owner, type, out), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  if (!c.local_error.empty()) out.error = c.local_error;
  return out;
}

DnssecRun run_dnssec_audit(const std::string& domain, const DnssecCollectOptions& options, std::int64_t now) {
  asio::io_context io;
  UnboundResolver resolver(io.get_executor(), options.resolver);  // throws ResolverError on bad files
  Collector c(io.get_executor(), resolver, options);
  DnssecAuditInput in;
  in.domain = domain;
  in.now = now;
  in.warn_days = options.warn_days;
  if (!options.resolver.trust_anchor_file.empty()) {
    in.trust_anchors = read_records(options.resolver.trust_anchor_file);
  } else {
    for (const char* ta : builtin_root_anchors) in.trust_anchors.emplace_back(ta);
  }
  std::exception_ptr failure;
  asio::co_spawn(io, collect(c, domain, in), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  DnssecRun run;
  in.notes = c.notes;
  if (!c.local_error.empty()) {
    run.error = c.local_error;
    return run;
  }
  // No root server answered at all: the network on our side, not a finding.
  if (!in.zones.empty() && in.zones.front().zone == ".") {
    const auto& root = in.zones.front();
    bool any = std::any_of(root.exchanges.begin(), root.exchanges.end(),
                           [](const DnsExchange& e) { return e.failure.empty(); });
    if (!any) {
      run.error = "no root server answered (is this machine's network up?)";
      return run;
    }
  }
  run.report = audit_dnssec(in);
  return run;
}

}  // namespace danekit
