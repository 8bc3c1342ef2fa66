// audit_dnssec as a pure function: replies signed here with ldns (fixed keys
// per run, a pinned "now"), one table row per finding. Each row builds the
// replies of a root and a two-server zone `example` (the DS in the root, SOA,
// DNSKEY, NSEC3PARAM and a TLSA RRset at the leaf), changes what one or both
// servers serve, and expects exactly these (code, zone, server) findings.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "danekit/dnssec_audit.h"

// ldns's headers redefine `bool` for C; they come after every C++ header.
#include <ldns/ldns.h>

namespace danekit {
namespace {

constexpr std::int64_t now = 1800000000;  // 2027-01-15T08:00:00Z
constexpr std::int64_t day = 86400;
const char* const ns1 = "192.0.2.1";
const char* const ns2 = "192.0.2.2";
const char* const root_ip = "198.51.100.1";
const char* const tlsa_owner = "_25._tcp.mx.example";
const char* const tlsa_a = "3 1 1 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
const char* const tlsa_b = "3 1 1 a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0";

struct Key {
  ldns_key* key = nullptr;
  ldns_rr* rr = nullptr;  // the DNSKEY
  int tag = 0;
};

Key make_key(const char* owner, std::uint16_t flags) {
  Key k;
  k.key = ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, 256);
  ldns_key_set_pubkey_owner(k.key, ldns_dname_new_frm_str(owner));
  ldns_key_set_flags(k.key, flags);
  k.rr = ldns_key2rr(k.key);
  ldns_rr_set_ttl(k.rr, 3600);
  k.tag = ldns_calc_keytag(k.rr);
  ldns_key_set_keytag(k.key, static_cast<std::uint16_t>(k.tag));
  return k;
}

// Generated once: ECDSA keys are quick, but there is no need to make them per row.
struct Keys {
  Key root = make_key(".", 257);
  Key ksk = make_key("example.", 257);
  Key zsk = make_key("example.", 256);
  Key gone = make_key("example.", 257);  // a key the zone no longer publishes
};
const Keys& keys() {
  static Keys k;
  return k;
}

ldns_rr* rr(const std::string& text) {
  ldns_rr* out = nullptr;
  EXPECT_EQ(ldns_rr_new_frm_str(&out, text.c_str(), 3600, nullptr, nullptr), LDNS_STATUS_OK) << text;
  return out;
}

struct Window {
  std::int64_t inception = now - day;
  std::int64_t expiration = now + 30 * day;
};

// RRSIGs over `set` by `signers`, valid in `w`.
ldns_rr_list* sign(ldns_rr_list* set, std::vector<const Key*> signers, Window w) {
  ldns_key_list* list = ldns_key_list_new();
  for (const auto* k : signers) {
    ldns_key_set_inception(k->key, static_cast<std::uint32_t>(w.inception));
    ldns_key_set_expiration(k->key, static_cast<std::uint32_t>(w.expiration));
    ldns_key_list_push_key(list, k->key);
  }
  ldns_rr_list* sigs = ldns_sign_public(set, list);
  // The keys stay ours: empty the list (pop_key's shrink to zero frees the
  // array under ldns_key_list_free) before freeing it.
  ldns_key_list_set_key_count(list, 0);
  ldns_key_list_free(list);
  return sigs;
}

// What one server serves, and how it misbehaves.
struct Serve {
  std::uint32_t serial = 100;
  Window window;  // of the ZSK's signatures
  std::string tlsa = tlsa_a;
  bool tlsa_signed = true;
  bool tlsa_tampered = false;  // rdata changed after signing
  std::string failure;         // every exchange fails so
  bool tcp_fails = false;
};

struct World {
  std::array<Serve, 2> serve;
  bool ds_ksk = true;         // DS for the KSK in the root
  bool ds_gone = false;       // DS for a key no longer published
  bool dnskey_by_ksk = true;  // else only the ZSK signs the DNSKEY RRset
  int nsec3_iterations = -1;  // -1: NSEC, no NSEC3PARAM
  bool anchor_matches = true;
  int warn_days = 3;
};

std::vector<std::uint8_t> wire(ldns_pkt* p) {
  std::uint8_t* buf = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&buf, p, &size), LDNS_STATUS_OK);
  std::vector<std::uint8_t> out(buf, buf + size);
  free(buf);
  ldns_pkt_free(p);
  return out;
}

ldns_pkt* reply(const std::string& qname, ldns_rr_type type) {
  ldns_pkt* p = ldns_pkt_new();
  ldns_pkt_set_qr(p, true);
  ldns_pkt_set_aa(p, true);
  ldns_rr* q = ldns_rr_new();
  ldns_rr_set_owner(q, ldns_dname_new_frm_str(qname.c_str()));
  ldns_rr_set_type(q, type);
  ldns_rr_set_question(q, true);
  ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
  return p;
}

// Pushes the RRset and its signatures (when given signers) into a section.
void add(ldns_pkt* p, ldns_pkt_section s, const std::vector<std::string>& records, std::vector<const Key*> signers,
         Window w, bool tamper = false) {
  ldns_rr_list* set = ldns_rr_list_new();
  for (const auto& r : records) ldns_rr_list_push_rr(set, rr(r));
  ldns_rr_list* sigs = signers.empty() ? nullptr : sign(set, signers, w);
  if (tamper) {
    ldns_rr* last = ldns_rr_list_rr(set, ldns_rr_list_rr_count(set) - 1);
    ldns_rdf* data = ldns_rr_rdf(last, 3);
    ldns_rdf_data(data)[0] ^= 0xff;
  }
  for (size_t i = 0; i < ldns_rr_list_rr_count(set); ++i)
    ldns_pkt_push_rr(p, s, ldns_rr_clone(ldns_rr_list_rr(set, i)));
  for (size_t i = 0; sigs && i < ldns_rr_list_rr_count(sigs); ++i)
    ldns_pkt_push_rr(p, s, ldns_rr_clone(ldns_rr_list_rr(sigs, i)));
  ldns_rr_list_deep_free(set);
  if (sigs) ldns_rr_list_deep_free(sigs);
}

std::string text_of(ldns_rr* r) {
  char* s = ldns_rr2str(r);
  std::string out = s;
  free(s);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string ds_of(const Key& k) {
  ldns_rr* ds = ldns_key_rr2ds(k.rr, LDNS_SHA256);
  std::string out = text_of(ds);
  ldns_rr_free(ds);
  return out;
}

DnsExchange exchange(const std::string& name, const std::string& address, DnsTransport t, const std::string& qname,
                     std::uint16_t qtype, std::vector<std::uint8_t> reply) {
  DnsExchange e;
  e.server = name;
  e.address = address;
  e.transport = t;
  e.qname = qname;
  e.qtype = qtype;
  e.reply = std::move(reply);
  return e;
}

DnssecAuditInput build(const World& w) {
  const auto& k = keys();
  Window good;
  DnssecAuditInput in;
  in.domain = "example";
  in.now = now;
  in.warn_days = w.warn_days;
  in.trust_anchors.push_back(w.anchor_matches ? ds_of(k.root) : ds_of(k.gone).replace(0, 8, "."));

  ZoneObservation root;
  root.zone = ".";
  root.servers = {{"a.root-servers.test", root_ip}};
  std::string root_soa = ". 3600 IN SOA a.root-servers.test. admin. 1 3600 900 604800 300";
  std::string root_nsec = ". 300 IN NSEC example. NS SOA RRSIG NSEC DNSKEY";
  std::vector<std::string> ds_set;
  if (w.ds_ksk) ds_set.push_back(ds_of(k.ksk));
  if (w.ds_gone) ds_set.push_back(ds_of(k.gone));
  ZoneObservation ex;
  ex.zone = "example";
  ex.parent = ".";
  ex.servers = {{"ns1.example", ns1}, {"ns2.example", ns2}};
  for (auto t : {DnsTransport::udp, DnsTransport::tcp}) {
    auto* p = reply(".", LDNS_RR_TYPE_SOA);
    add(p, LDNS_SECTION_ANSWER, {root_soa}, {&k.root}, good);
    root.exchanges.push_back(exchange("a.root-servers.test", root_ip, t, ".", LDNS_RR_TYPE_SOA, wire(p)));
    p = reply(".", LDNS_RR_TYPE_DNSKEY);
    add(p, LDNS_SECTION_ANSWER, {text_of(k.root.rr)}, {&k.root}, good);
    root.exchanges.push_back(exchange("a.root-servers.test", root_ip, t, ".", LDNS_RR_TYPE_DNSKEY, wire(p)));
    p = reply(".", LDNS_RR_TYPE_NSEC3PARAM);
    add(p, LDNS_SECTION_AUTHORITY, {root_soa}, {&k.root}, good);
    add(p, LDNS_SECTION_AUTHORITY, {root_nsec}, {&k.root}, good);
    root.exchanges.push_back(exchange("a.root-servers.test", root_ip, t, ".", LDNS_RR_TYPE_NSEC3PARAM, wire(p)));
    p = reply("example.", LDNS_RR_TYPE_DS);
    if (ds_set.empty()) {
      add(p, LDNS_SECTION_AUTHORITY, {root_soa}, {&k.root}, good);
    } else {
      add(p, LDNS_SECTION_ANSWER, ds_set, {&k.root}, good);
    }
    ex.parent_exchanges.push_back(exchange("a.root-servers.test", root_ip, t, "example", LDNS_RR_TYPE_DS, wire(p)));
  }

  for (std::size_t i = 0; i < 2; ++i) {
    const Serve& s = w.serve[i];
    const auto& srv = ex.servers[i];
    std::string soa =
        "example. 3600 IN SOA ns1.example. admin.example. " + std::to_string(s.serial) + " 3600 900 604800 300";
    std::string nsec = "example. 300 IN NSEC ns1.example. NS SOA RRSIG NSEC DNSKEY" +
                       std::string(w.nsec3_iterations >= 0 ? " NSEC3PARAM" : "");
    for (auto t : {DnsTransport::udp, DnsTransport::tcp}) {
      auto push = [&](const std::string& qname, std::uint16_t qtype, ldns_pkt* p) {
        auto e = exchange(srv.name, srv.address, t, qname, qtype, wire(p));
        if (!s.failure.empty() || (s.tcp_fails && t == DnsTransport::tcp)) {
          e.reply.clear();
          e.failure = s.failure.empty() ? "timeout" : s.failure;
        }
        ex.exchanges.push_back(std::move(e));
      };
      auto* p = reply("example.", LDNS_RR_TYPE_SOA);
      add(p, LDNS_SECTION_ANSWER, {soa}, {&k.zsk}, s.window);
      push("example", LDNS_RR_TYPE_SOA, p);
      p = reply("example.", LDNS_RR_TYPE_DNSKEY);
      std::vector<const Key*> dnskey_signers{&k.zsk};
      if (w.dnskey_by_ksk) dnskey_signers = {&k.ksk};
      add(p, LDNS_SECTION_ANSWER, {text_of(k.ksk.rr), text_of(k.zsk.rr)}, dnskey_signers, good);
      push("example", LDNS_RR_TYPE_DNSKEY, p);
      p = reply("example.", LDNS_RR_TYPE_NSEC3PARAM);
      if (w.nsec3_iterations >= 0) {
        add(p, LDNS_SECTION_ANSWER, {"example. 0 IN NSEC3PARAM 1 0 " + std::to_string(w.nsec3_iterations) + " -"},
            {&k.zsk}, s.window);
      } else {
        add(p, LDNS_SECTION_AUTHORITY, {soa}, {&k.zsk}, s.window);
        add(p, LDNS_SECTION_AUTHORITY, {nsec}, {&k.zsk}, s.window);
      }
      push("example", LDNS_RR_TYPE_NSEC3PARAM, p);
      p = reply(std::string(tlsa_owner) + ".", LDNS_RR_TYPE_TLSA);
      std::vector<const Key*> tlsa_signers;
      if (s.tlsa_signed) tlsa_signers.push_back(&k.zsk);
      add(p, LDNS_SECTION_ANSWER, {std::string(tlsa_owner) + ". 3600 IN TLSA " + s.tlsa}, tlsa_signers, s.window,
          s.tlsa_tampered);
      push(tlsa_owner, LDNS_RR_TYPE_TLSA, p);
    }
  }
  in.zones = {std::move(root), std::move(ex)};
  return in;
}

using Expect = std::set<std::tuple<std::string, std::string, std::string>>;  // code, zone, server

struct Case {
  const char* name;
  void (*setup)(World&);
  Expect expect;
};

const Case cases[] = {
    {"all good", [](World&) {}, {}},
    {"one secondary serves expired signatures and an old serial",
     [](World& w) {
       w.serve[1].window = {now - 40 * day, now - 10 * day};
       w.serve[1].serial = 99;
     },
     {{"ns-rrsig-expired", "example", ns2}, {"ns-serial-mismatch", "example", ns2}}},
    {"every server serves expired signatures",
     [](World& w) {
       w.serve[0].window = w.serve[1].window = {now - 40 * day, now - day};
     },
     {{"ns-rrsig-expired", "example", "*"}}},
    {"signatures not valid yet",
     [](World& w) {
       w.serve[0].window = w.serve[1].window = {now + day, now + 30 * day};
     },
     {{"rrsig-not-yet-valid", "example", "*"}}},
    {"signatures expire in two days",
     [](World& w) {
       w.serve[0].window = w.serve[1].window = {now - 20 * day, now + 2 * day + 3600};
     },
     {{"rrsig-expiring", "example", "*"}}},
    {"signatures expire in two days, threshold one day",
     [](World& w) {
       w.serve[0].window = w.serve[1].window = {now - 20 * day, now + 2 * day + 3600};
       w.warn_days = 1;
     },
     {}},
    {"a stale DS beside the matching one", [](World& w) { w.ds_gone = true; }, {{"ds-stale", "example", "*"}}},
    {"only a DS for a key no longer published",
     [](World& w) {
       w.ds_ksk = false;
       w.ds_gone = true;
     },
     {{"ds-no-match", "example", "*"}}},
    {"DNSKEY RRset signed only by the ZSK",
     [](World& w) { w.dnskey_by_ksk = false; },
     {{"dnskey-unsigned-by-ds-key", "example", "*"}}},
    {"one server serves the TLSA RRset unsigned",
     [](World& w) { w.serve[1].tlsa_signed = false; },
     {{"rrsig-missing", "example", ns2}}},
    {"a TLSA change that reached the primary only",
     [](World& w) {
       w.serve[0].tlsa = tlsa_b;
       w.serve[0].serial = 101;
     },
     {{"ns-tlsa-inconsistent", "example", ns2}, {"ns-serial-mismatch", "example", ns2}}},
    {"TLSA rdata changed after signing on the primary",
     [](World& w) { w.serve[0].tlsa_tampered = true; },
     {{"rrsig-bogus", "example", ns1}}},
    {"NSEC3 with 50 iterations", [](World& w) { w.nsec3_iterations = 50; }, {{"nsec3-iterations", "example", "*"}}},
    {"NSEC3 with 0 iterations", [](World& w) { w.nsec3_iterations = 0; }, {}},
    {"a secondary that refuses connections: no signature verdict for it",
     [](World& w) {
       w.serve[1].failure = "unreachable";
       w.serve[1].window = {now - 40 * day, now - 10 * day};
     },
     {{"ns-unreachable", "example", ns2}}},
    {"a secondary that never answers",
     [](World& w) { w.serve[1].failure = "timeout"; },
     {{"ns-timeout", "example", ns2}}},
    {"queries our own deadline stopped judge no server", [](World& w) { w.serve[1].failure = "deadline"; }, {}},
    {"a secondary without TCP", [](World& w) { w.serve[1].tcp_fails = true; }, {{"ns-tcp-failed", "example", ns2}}},
    {"a trust anchor for another root key",
     [](World& w) { w.anchor_matches = false; },
     {{"trust-anchor-no-match", ".", "*"}}},
};

// gtest prints a failing row by its name (not the struct's raw bytes).
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class DnssecAuditTable : public ::testing::TestWithParam<Case> {};

TEST_P(DnssecAuditTable, Findings) {
  const Case& c = GetParam();
  World w;
  c.setup(w);
  auto report = audit_dnssec(build(w));
  Expect got;
  std::string all;
  for (const auto& f : report.findings) {
    got.insert({f.code, f.zone, f.server});
    all += f.code + " [" + f.zone + " " + f.server + "] " + f.text + "\n";
    EXPECT_FALSE(f.rfc.empty());
    EXPECT_FALSE(f.fix.empty());
    EXPECT_EQ(f.fix.find('{'), std::string::npos) << f.fix;
  }
  EXPECT_EQ(got, c.expect) << all;
  EXPECT_EQ(has_errors(report), std::any_of(report.findings.begin(), report.findings.end(),
                                            [](const auto& f) { return f.severity == Severity::error; }));
}

INSTANTIATE_TEST_SUITE_P(Cases, DnssecAuditTable, ::testing::ValuesIn(cases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string n;
                           for (const char* p = info.param.name; *p; ++p)
                             n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
                           return n;
                         });

TEST(DnssecAudit, FindingTextsNameTheServerAndTheDays) {
  World w;
  w.serve[1].window = {now - 40 * day, now - 10 * day};
  auto r = audit_dnssec(build(w));
  ASSERT_FALSE(r.findings.empty());
  EXPECT_NE(r.findings[0].text.find("ns2.example (192.0.2.2)"), std::string::npos) << r.findings[0].text;
  EXPECT_EQ(r.findings[0].severity, Severity::error);

  World soon;
  soon.serve[0].window = soon.serve[1].window = {now - 20 * day, now + 2 * day + 3600};
  auto e = audit_dnssec(build(soon));
  ASSERT_EQ(e.findings.size(), 1u);
  EXPECT_NE(e.findings[0].text.find("2 days left"), std::string::npos) << e.findings[0].text;
  EXPECT_EQ(e.findings[0].severity, Severity::warning);
}

// Above 150 iterations validators treat denials as insecure, not bogus: the
// direct answers stay secure, so this stays a warning that says so.
TEST(DnssecAudit, IterationsAboveWhatValidatorsAcceptAreSaidSo) {
  World w;
  w.nsec3_iterations = 200;
  auto r = audit_dnssec(build(w));
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].code, "nsec3-iterations");
  EXPECT_EQ(r.findings[0].severity, Severity::warning);
  EXPECT_NE(r.findings[0].text.find("200 extra iterations, more than the 150"), std::string::npos)
      << r.findings[0].text;
}

TEST(DnssecAudit, ZoneStatusAndKeys) {
  World w;
  auto r = audit_dnssec(build(w));
  ASSERT_EQ(r.zones.size(), 2u);
  EXPECT_EQ(r.zones[0].status, "secure");
  EXPECT_EQ(r.zones[1].status, "secure");
  ASSERT_EQ(r.zones[1].ds.size(), 1u);
  EXPECT_TRUE(r.zones[1].ds[0].matches);
  EXPECT_EQ(r.zones[1].ds[0].key_tag, keys().ksk.tag);
  ASSERT_EQ(r.zones[1].servers.size(), 2u);
  EXPECT_EQ(r.zones[1].servers[0].soa_serial, 100u);
  EXPECT_EQ(r.zones[1].servers[1].udp, "ok");

  World bad;
  bad.ds_ksk = false;
  bad.ds_gone = true;
  EXPECT_EQ(audit_dnssec(build(bad)).zones[1].status, "bogus");
}

TEST(DnssecAudit, JsonShape) {
  World w;
  w.serve[1].window = {now - 40 * day, now - 10 * day};
  auto j = nlohmann::json::parse(to_json(audit_dnssec(build(w))));
  EXPECT_EQ(j["schema"], "danekit.dnssec/1");
  EXPECT_EQ(j["domain"], "example");
  ASSERT_EQ(j["zones"].size(), 2u);
  EXPECT_EQ(j["zones"][1]["name"], "example");
  EXPECT_EQ(j["zones"][1]["parent"], ".");
  EXPECT_EQ(j["zones"][1]["servers"][1]["address"], ns2);
  EXPECT_EQ(j["zones"][1]["servers"][1]["soa_serial"], 100);
  const auto& f = j["findings"][0];
  EXPECT_EQ(f["code"], "ns-rrsig-expired");
  EXPECT_EQ(f["server"], ns2);
  EXPECT_EQ(f["severity"], "error");
  for (const char* key : {"zone", "rfc", "text", "fix"}) EXPECT_TRUE(f.contains(key)) << key;
}

TEST(DnssecAudit, MalformedRepliesAreAFindingNotACrash) {
  auto in = build(World{});
  for (auto& e : in.zones[1].exchanges)
    if (e.address == ns2) e.reply.resize(7);
  auto r = audit_dnssec(in);
  bool found = false;
  for (const auto& f : r.findings) found |= f.code == "ns-malformed" && f.server == ns2;
  EXPECT_TRUE(found);
}

// docs/reasons.md documents every code of the catalog.
TEST(DnssecAudit, EveryCodeIsDocumented) {
  std::ifstream f(std::string(DANEKIT_GOLDEN_DIR) + "/../../../docs/reasons.md");
  ASSERT_TRUE(f) << "docs/reasons.md";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string doc = ss.str();
  auto section = doc.find("## DNSSEC audit (danekit dnssec)");
  ASSERT_NE(section, std::string::npos);
  for (const auto& r : dnssec_reasons())
    EXPECT_NE(doc.find("`" + std::string(r.code) + "`", section), std::string::npos) << r.code;
}

}  // namespace
}  // namespace danekit
