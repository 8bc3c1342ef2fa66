// The special-purpose address table as a table: address literal -> the entry
// (prefix, name, RFC, Globally Reachable), the embedded IPv4 address and its
// entry, and whether a service must refuse it as a target. Every row of the
// table is hit by at least one address here (checked at the end), with both
// edges and one address outside for many prefixes, and the most specific entry
// where entries nest.
#include <gtest/gtest.h>

#include <set>

#include "danekit/special_address.h"

namespace danekit {
namespace {

constexpr auto T = RegistryFlag::yes;
constexpr auto F = RegistryFlag::no;
constexpr auto NA = RegistryFlag::not_applicable;

struct Case {
  std::string address;
  std::string prefix;  // expected entry; empty: an ordinary address (nullopt)
  std::string name;
  std::string rfc;
  RegistryFlag global;
  bool refuse;
  std::string embedded = {};         // expected embedded IPv4, if any
  std::string embedded_prefix = {};  // its entry; empty: ordinary
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      // IPv4 special-purpose registry, row by row.
      {"0.0.0.0", "0.0.0.0/32", "\"This host on this network\"", "RFC 1122 §3.2.1.3", F, true},
      {"0.0.0.1", "0.0.0.0/8", "\"This network\"", "RFC 791 §3.2", F, true},
      {"0.255.255.255", "0.0.0.0/8", "\"This network\"", "RFC 791 §3.2", F, true},
      {"1.0.0.0", "", "", "", F, false},
      {"9.255.255.255", "", "", "", F, false},
      {"10.0.0.0", "10.0.0.0/8", "Private-Use", "RFC 1918", F, true},
      {"10.255.255.255", "10.0.0.0/8", "Private-Use", "RFC 1918", F, true},
      {"11.0.0.0", "", "", "", F, false},
      {"100.63.255.255", "", "", "", F, false},
      {"100.64.0.0", "100.64.0.0/10", "Shared Address Space", "RFC 6598", F, true},
      {"100.127.255.255", "100.64.0.0/10", "Shared Address Space", "RFC 6598", F, true},
      {"100.128.0.0", "", "", "", F, false},
      {"127.0.0.1", "127.0.0.0/8", "Loopback", "RFC 1122 §3.2.1.3", F, true},
      {"127.255.255.255", "127.0.0.0/8", "Loopback", "RFC 1122 §3.2.1.3", F, true},
      {"128.0.0.0", "", "", "", F, false},
      {"169.254.0.0", "169.254.0.0/16", "Link Local", "RFC 3927", F, true},
      {"169.254.169.254", "169.254.0.0/16", "Link Local", "RFC 3927", F, true},
      {"169.255.0.0", "", "", "", F, false},
      {"172.15.255.255", "", "", "", F, false},
      {"172.16.0.0", "172.16.0.0/12", "Private-Use", "RFC 1918", F, true},
      {"172.31.255.255", "172.16.0.0/12", "Private-Use", "RFC 1918", F, true},
      {"172.32.0.0", "", "", "", F, false},
      // 192.0.0.0/24 and the entries inside it: the most specific wins.
      {"192.0.0.0", "192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", F, true},
      {"192.0.0.7", "192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", F, true},
      {"192.0.0.8", "192.0.0.8/32", "IPv4 dummy address", "RFC 7600", F, true},
      {"192.0.0.9", "192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", T, false},
      {"192.0.0.10", "192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", T, false},
      {"192.0.0.11", "192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890 §2.1", F, true},
      {"192.0.0.170", "192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 §2.2", F, true},
      {"192.0.0.171", "192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 §2.2", F, true},
      {"192.0.0.255", "192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890 §2.1", F, true},
      {"192.0.1.0", "", "", "", F, false},
      {"192.0.2.0", "192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", F, true},
      {"192.0.2.255", "192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", F, true},
      {"192.0.3.0", "", "", "", F, false},
      {"192.31.196.1", "192.31.196.0/24", "AS112-v4", "RFC 7535", T, false},
      {"192.52.193.1", "192.52.193.0/24", "AMT", "RFC 7450", T, false},
      {"192.88.99.1", "192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", NA, true},
      {"192.88.99.2", "192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", F, true},
      {"192.88.99.3", "192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", NA, true},
      {"192.167.255.255", "", "", "", F, false},
      {"192.168.0.0", "192.168.0.0/16", "Private-Use", "RFC 1918", F, true},
      {"192.168.255.255", "192.168.0.0/16", "Private-Use", "RFC 1918", F, true},
      {"192.169.0.0", "", "", "", F, false},
      {"192.175.48.6", "192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", T, false},
      {"198.17.255.255", "", "", "", F, false},
      {"198.18.0.0", "198.18.0.0/15", "Benchmarking", "RFC 2544", F, true},
      {"198.19.255.255", "198.18.0.0/15", "Benchmarking", "RFC 2544", F, true},
      {"198.20.0.0", "", "", "", F, false},
      {"198.51.100.7", "198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", F, true},
      {"203.0.113.255", "203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", F, true},
      {"203.0.114.0", "", "", "", F, false},
      {"223.255.255.255", "", "", "", F, false},
      {"224.0.0.0", "224.0.0.0/4", "Multicast", "RFC 5771", NA, true},
      {"239.255.255.255", "224.0.0.0/4", "Multicast", "RFC 5771", NA, true},
      {"240.0.0.0", "240.0.0.0/4", "Reserved", "RFC 1112 §4", F, true},
      {"255.255.255.254", "240.0.0.0/4", "Reserved", "RFC 1112 §4", F, true},
      {"255.255.255.255", "255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919 §7", F, true},
      // Ordinary global addresses.
      {"8.8.8.8", "", "", "", F, false},
      {"2a00:1450::1", "", "", "", F, false},
      {"2001:200::1", "", "", "", F, false},
      {"1.1.1.1", "", "", "", F, false},

      // IPv6 special-purpose registry.
      {"::", "::/128", "Unspecified Address", "RFC 4291", F, true},
      {"::1", "::1/128", "Loopback Address", "RFC 4291", F, true},
      {"::ffff:0.0.0.0", "::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", F, true, "0.0.0.0", "0.0.0.0/32"},
      {"::ffff:127.0.0.1", "::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", F, true, "127.0.0.1", "127.0.0.0/8"},
      {"::ffff:8.8.8.8", "::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", F, true, "8.8.8.8", ""},
      {"::ffff:255.255.255.255", "::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", F, true, "255.255.255.255",
       "255.255.255.255/32"},
      // NAT64: the well-known prefix is globally reachable, but only for a
      // global IPv4 address inside (RFC 6052 §3.1).
      {"64:ff9b::8.8.8.8", "64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", T, false, "8.8.8.8", ""},
      {"64:ff9b::", "64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", T, true, "0.0.0.0", "0.0.0.0/32"},
      {"64:ff9b::a00:1", "64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", T, true, "10.0.0.1", "10.0.0.0/8"},
      {"64:ff9b::ffff:ffff", "64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", T, true, "255.255.255.255",
       "255.255.255.255/32"},
      {"64:ff9b:0:0:0:1::", "::/8", "Reserved by IETF", "RFC 4291", F, true},
      {"64:ff9b:1::", "64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", F, true, "0.0.0.0", "0.0.0.0/32"},
      {"64:ff9b:1:ffff:ffff:ffff:7f00:1", "64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", F, true, "127.0.0.1",
       "127.0.0.0/8"},
      {"64:ff9b:2::", "::/8", "Reserved by IETF", "RFC 4291", F, true},
      {"100::", "100::/64", "Discard-Only Address Block", "RFC 6666", F, true},
      {"100::ffff:ffff:ffff:ffff", "100::/64", "Discard-Only Address Block", "RFC 6666", F, true},
      {"100:0:0:1::", "100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", F, true},
      {"100:0:0:1:ffff:ffff:ffff:ffff", "100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", F, true},
      {"100:0:0:2::", "100::/8", "Reserved by IETF", "RFC 4291", F, true},
      // 2001::/23 and the entries nested in it.
      {"2001::", "2001::/32", "TEREDO", "RFC 4380, RFC 8190", NA, true},
      {"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "2001::/32", "TEREDO", "RFC 4380, RFC 8190", NA, true},
      {"2001:1::", "2001::/23", "IETF Protocol Assignments", "RFC 2928", F, true},
      {"2001:1::1", "2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", T, false},
      {"2001:1::2", "2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", T, false},
      {"2001:1::3", "2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", T, false},
      {"2001:1::4", "2001::/23", "IETF Protocol Assignments", "RFC 2928", F, true},
      {"2001:2::", "2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752", F, true},
      {"2001:2:0:ffff:ffff:ffff:ffff:ffff", "2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752", F, true},
      {"2001:2:1::", "2001::/23", "IETF Protocol Assignments", "RFC 2928", F, true},
      {"2001:3::1", "2001:3::/32", "AMT", "RFC 7450", T, false},
      {"2001:4:112::1", "2001:4:112::/48", "AS112-v6", "RFC 7535", T, false},
      {"2001:10::1", "2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", NA, true},
      {"2001:20::", "2001:20::/28", "ORCHIDv2", "RFC 7343", T, false},
      {"2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", "2001:20::/28", "ORCHIDv2", "RFC 7343", T, false},
      {"2001:30::1", "2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", T, false},
      {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "2001::/23", "IETF Protocol Assignments", "RFC 2928", F, true},
      {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "", "", "", F, false},
      {"2001:db8::", "2001:db8::/32", "Documentation", "RFC 3849", F, true},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32", "Documentation", "RFC 3849", F, true},
      {"2001:db9::", "", "", "", F, false},
      // 6to4: the IPv4 address in bits 16-47.
      {"2002:7f00:1::", "2002::/16", "6to4", "RFC 3056", NA, true, "127.0.0.1", "127.0.0.0/8"},
      {"2002:808:808::1", "2002::/16", "6to4", "RFC 3056", NA, true, "8.8.8.8", ""},
      {"2002:c0a8:101:1::1", "2002::/16", "6to4", "RFC 3056", NA, true, "192.168.1.1", "192.168.0.0/16"},
      {"2003::", "", "", "", F, false},
      {"2620:4f:8000::6", "2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", T, false},
      {"3fff::", "3fff::/20", "Documentation", "RFC 9637", F, true},
      {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff::/20", "Documentation", "RFC 9637", F, true},
      {"3fff:1000::", "", "", "", F, false},
      {"5f00::1", "5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", F, true},
      {"5f01::1", "4000::/3", "Reserved by IETF", "RFC 4291", F, true},
      {"fc00::", "fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", F, true},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", F, true},
      {"fe80::1", "fe80::/10", "Link-Local Unicast", "RFC 4291", F, true},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::/10", "Link-Local Unicast", "RFC 4291", F, true},
      {"ff02::1", "ff00::/8", "Multicast", "RFC 4291 §2.7", NA, true},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ff00::/8", "Multicast", "RFC 4291 §2.7", NA, true},
      // Deprecated IPv4-compatible ::/96 (only where ::/128 and ::1/128 do not apply).
      {"::2", "::/96", "IPv4-compatible IPv6 address (deprecated)", "RFC 4291 §2.5.5.1", F, true, "0.0.0.2",
       "0.0.0.0/8"},
      {"::8.8.8.8", "::/96", "IPv4-compatible IPv6 address (deprecated)", "RFC 4291 §2.5.5.1", F, true, "8.8.8.8", ""},
      {"::169.254.169.254", "::/96", "IPv4-compatible IPv6 address (deprecated)", "RFC 4291 §2.5.5.1", F, true,
       "169.254.169.254", "169.254.0.0/16"},
      // IANA IPv6 Address Space: reserved by the IETF. ::ffff:0:0:0/96 (SIIT,
      // RFC 2765) falls here.
      {"::ffff:0:1.2.3.4", "::/8", "Reserved by IETF", "RFC 4291", F, true},
      {"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/8", "Reserved by IETF", "RFC 4291", F, true},
      {"1ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "100::/8", "Reserved by IETF", "RFC 4291", F, true},
      {"200::", "200::/7", "Reserved by IETF (formerly OSI NSAP-mapped)", "RFC 4048", F, true},
      {"400::", "400::/6", "Reserved by IETF", "RFC 4291", F, true},
      {"800::", "800::/5", "Reserved by IETF", "RFC 4291", F, true},
      {"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1000::/4", "Reserved by IETF", "RFC 4291", F, true},
      {"2000::", "", "", "", F, false},
      {"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "", "", "", F, false},
      {"4000::", "4000::/3", "Reserved by IETF", "RFC 4291", F, true},
      {"6000::", "6000::/3", "Reserved by IETF", "RFC 4291", F, true},
      {"8000::", "8000::/3", "Reserved by IETF", "RFC 4291", F, true},
      {"a000::", "a000::/3", "Reserved by IETF", "RFC 4291", F, true},
      {"c000::", "c000::/3", "Reserved by IETF", "RFC 4291", F, true},
      {"e000::", "e000::/4", "Reserved by IETF", "RFC 4291", F, true},
      {"f000::", "f000::/5", "Reserved by IETF", "RFC 4291", F, true},
      {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "f800::/6", "Reserved by IETF", "RFC 4291", F, true},
      {"fe00::", "fe00::/9", "Reserved by IETF", "RFC 4291", F, true},
      {"fec0::1", "fec0::/10", "Reserved by IETF (formerly Site-Local)", "RFC 3879", F, true},
      {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::/10", "Reserved by IETF (formerly Site-Local)", "RFC 3879", F,
       true},
      // Spellings inet_pton accepts.
      {"2001:DB8::1", "2001:db8::/32", "Documentation", "RFC 3849", F, true},
      {"0:0:0:0:0:0:0:1", "::1/128", "Loopback Address", "RFC 4291", F, true},
  };
  return c;
}

TEST(SpecialAddress, TableOfAddresses) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.address);
    auto r = classify_special(c.address);
    ASSERT_TRUE(r) << r.error();
    if (c.prefix.empty()) {
      EXPECT_FALSE(r->has_value()) << "classified as " << (*r)->range.prefix;
      continue;
    }
    ASSERT_TRUE(r->has_value());
    const SpecialAddress& s = **r;
    EXPECT_EQ(s.range.prefix, c.prefix);
    EXPECT_EQ(s.range.name, c.name);
    EXPECT_EQ(s.range.rfc, c.rfc);
    EXPECT_EQ(to_string(s.range.globally_reachable), to_string(c.global));
    EXPECT_EQ(s.refuse_as_target(), c.refuse);
    EXPECT_FALSE(s.range.registry.empty());
    if (c.embedded.empty()) {
      EXPECT_FALSE(s.embedded_ipv4) << *s.embedded_ipv4;
      EXPECT_TRUE(s.embedding.empty());
    } else {
      ASSERT_TRUE(s.embedded_ipv4);
      EXPECT_EQ(*s.embedded_ipv4, c.embedded);
      EXPECT_FALSE(s.embedding.empty());
      EXPECT_EQ(s.embedded_range ? std::string(s.embedded_range->prefix) : "", c.embedded_prefix);
    }
  }
}

TEST(SpecialAddress, EveryRowOfTheTableIsExercised) {
  std::set<std::string> hit;
  for (const auto& c : cases())
    if (!c.prefix.empty()) hit.insert(c.prefix);
  std::set<std::string> prefixes;
  for (const auto& r : special_ranges()) {
    EXPECT_TRUE(prefixes.insert(std::string(r.prefix)).second) << "duplicate row " << r.prefix;
    EXPECT_TRUE(hit.count(std::string(r.prefix))) << "no test address for " << r.prefix;
    // The row's own network address must classify as that row or a more specific one.
    std::string base(r.prefix.substr(0, r.prefix.find('/')));
    auto self = classify_special(base);
    ASSERT_TRUE(self && self->has_value()) << r.prefix;
    auto bits = [](std::string_view p) { return std::stoi(std::string(p.substr(p.find('/') + 1))); };
    EXPECT_GE(bits((*self)->range.prefix), bits(r.prefix)) << r.prefix << " -> " << (*self)->range.prefix;
  }
  for (const auto& p : hit) EXPECT_TRUE(prefixes.count(p)) << "test names a row the table lacks: " << p;
}

TEST(SpecialAddress, TheRegistryColumnsOfSomeRows) {
  auto col = [](const char* a) { return (*classify_special(a))->range; };
  auto lo = col("127.0.0.1");
  EXPECT_EQ(lo.source, F);
  EXPECT_EQ(lo.destination, F);
  EXPECT_EQ(lo.forwardable, F);
  EXPECT_EQ(lo.reserved_by_protocol, T);
  EXPECT_NE(lo.footnote.find("exceptions"), std::string_view::npos);
  auto ll = col("169.254.1.1");
  EXPECT_EQ(ll.destination, T);
  EXPECT_EQ(ll.forwardable, F);
  auto bcast = col("255.255.255.255");
  EXPECT_EQ(bcast.destination, T);
  EXPECT_EQ(bcast.forwardable, F);
  auto teredo = col("2001::1");
  EXPECT_EQ(teredo.forwardable, T);
  EXPECT_EQ(teredo.globally_reachable, NA);
  EXPECT_NE(teredo.footnote.find("RFC 4380"), std::string_view::npos);
  auto ula = col("fd00::1");
  EXPECT_EQ(ula.registry, "IANA IPv6 Special-Purpose Address Registry");
  EXPECT_NE(ula.footnote.find("not globally routed"), std::string_view::npos);
  EXPECT_EQ(col("224.0.0.1").registry, "IANA IPv4 Multicast Address Space");
  EXPECT_EQ(col("ff05::2").registry, "IANA IPv6 Multicast Address Space");
  EXPECT_EQ(col("10.1.1.1").registry, "IANA IPv4 Special-Purpose Address Registry");
  EXPECT_EQ(col("fec0::1").registry, "IANA IPv6 Address Space");
  auto orchid = col("2001:10::1");
  EXPECT_EQ(orchid.source, NA);
  EXPECT_EQ(orchid.destination, NA);
}

TEST(SpecialAddress, CanonicalTextAndBytes) {
  auto r = classify_special("2001:0DB8:0000::0001");
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->address, "2001:db8::1");
  auto b = classify_special_bytes({127, 0, 0, 1});
  ASSERT_TRUE(b && b->has_value());
  EXPECT_EQ((*b)->range.name, "Loopback");
  EXPECT_EQ((*b)->address, "127.0.0.1");
  std::vector<unsigned char> mapped(16, 0);
  mapped[10] = mapped[11] = 0xff;
  mapped[12] = 192;
  mapped[13] = 168;
  mapped[15] = 1;
  auto m = classify_special_bytes(mapped);
  ASSERT_TRUE(m && m->has_value());
  EXPECT_EQ((*m)->embedding, "IPv4-mapped");
  EXPECT_EQ((*m)->embedded_ipv4.value_or(""), "192.168.0.1");
  EXPECT_FALSE(classify_special_bytes({8, 8, 8, 8}).value().has_value());
  auto bad = classify_special_bytes({1, 2, 3});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "an IP address has 4 or 16 bytes, not 3");
}

TEST(SpecialAddress, BadInputIsAnErrorOfOneLine) {
  const std::vector<std::string> bad = {
      "",
      "mx.example.com",
      "localhost",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.4 ",
      " 1.2.3.4",
      "0x7f.0.0.1",
      "::g",
      ":::",
      "1::2::3",
      "[::1]",
      "fe80::1%eth0",
      "10.0.0.0/8",
      "2001:db8::/32",
      std::string("127.0.0.1\0", 10),
      "\x1b[31m::1",
      std::string(65, '1'),
      std::string(200, ':'),
  };
  for (const auto& text : bad) {
    SCOPED_TRACE(text);
    auto r = classify_special(text);
    ASSERT_FALSE(r) << "accepted";
    EXPECT_FALSE(r.error().empty());
    EXPECT_EQ(r.error().find('\n'), std::string::npos) << r.error();
    EXPECT_EQ(r.error().find('\x1b'), std::string::npos) << r.error();
    EXPECT_LE(r.error().size(), 200u);
  }
  EXPECT_EQ(classify_special("").error(), "empty address");
  EXPECT_EQ(classify_special("1.2.3").error(), "not an IPv4 address: 1.2.3");
  EXPECT_EQ(classify_special("::g").error(), "not an IPv6 address: ::g");
}

}  // namespace
}  // namespace danekit
