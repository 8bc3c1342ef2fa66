#include <gtest/gtest.h>

#include <string_view>

#include "danekit/dns.h"
#include "dns/ldns/zone_file.h"
#include "dns/unbound/wire.h"
#include "util/hex.h"

namespace danekit {
namespace {

TEST(DomainInput, NormalizesCaseTrailingDotAndIdn) {
  EXPECT_EQ(*normalize_domain("Example.ORG."), "example.org");
  EXPECT_EQ(*normalize_domain("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*normalize_domain("_25._tcp.mx.example"), "_25._tcp.mx.example");
}

TEST(DomainInput, RejectsWithOneLineReasons) {
  std::vector<std::pair<std::string, std::string>> cases{
      {"", "empty"},
      {".", "root"},
      {"a..b", "empty label"},
      {std::string(64, 'a') + ".com", "limit is 63"},
      {std::string(250, 'a').insert(60, ".").insert(120, ".").insert(180, ".") + ".com", "limit is 253"},
      {"exa mple.com", "invalid character"},
      {"Exa\x1bmple.COM", "'Exa\x1bmple.COM' has an invalid character '\x1b' in label 'exa\x1bmple'"},
      {"-bad.com", "hyphen"},
      {"xn--zz.example", "invalid A-label"},
      {"a\xff.example", "internationalized"},
  };
  for (const auto& [input, fragment] : cases) {
    auto r = normalize_domain(input);
    ASSERT_FALSE(r) << input;
    EXPECT_NE(r.error().find(fragment), std::string::npos) << input << " -> " << r.error();
    EXPECT_EQ(r.error().find('\n'), std::string::npos);
  }
}

TEST(DomainInput, MailDomainsAreHostNames) {
  EXPECT_EQ(*normalize_mail_domain("Mail.Example.ORG."), "mail.example.org");
  EXPECT_EQ(*normalize_mail_domain("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*normalize_mail_domain("1and1.com"), "1and1.com");
  EXPECT_EQ(*normalize_mail_domain("example.123abc"), "example.123abc");
  const std::pair<std::string, std::string> cases[] = {
      {"_", "'_' is not allowed"},
      {"a_b.example", "'_' is not allowed"},
      {"_25._tcp.mx.example", "'_' is not allowed"},
      {"127.0.0.1", "reads as an IP address"},
      {"10.1", "reads as an IP address"},
      {"[127.0.0.1]", "invalid character"},
      {"xn--zz.example", "invalid A-label"},
  };
  for (const auto& [input, fragment] : cases) {
    auto r = normalize_mail_domain(input);
    ASSERT_FALSE(r) << input;
    EXPECT_NE(r.error().find(fragment), std::string::npos) << input << " -> " << r.error();
  }
}

TEST(DomainInput, RootAndTld) {
  EXPECT_TRUE(is_root_or_tld(""));
  EXPECT_TRUE(is_root_or_tld("com"));
  EXPECT_TRUE(is_root_or_tld("com."));
  EXPECT_FALSE(is_root_or_tld("example.com"));
}

// Replies as libunbound hands them over (the packets of the dns_answer fuzz
// seeds, tests/fuzz/make_dns_answer_seeds.py), classified as the resolver does.
std::vector<std::uint8_t> packet(std::string_view hex) { return *from_hex(hex); }

TEST(ClassifyAnswer, DataBehindACnameIntoAnotherZone) {
  auto pkt = packet(
      "000281a00001000200000000035f3235045f746370026d78076578616d706c65036f72670000340001c00c000500010000012c001e035f"
      "3235045f746370026d780870726f7669646572076578616d706c6500c035003400010000012c00230301018be5a56f306054f1c2218ee0"
      "7c04ad01bbc3bcf3ebbcfe4a3e85de6301b9ba90");
  ResultFlags flags;
  flags.havedata = true;
  flags.secure = true;
  flags.ttl = 300;
  auto a = classify_answer("_25._tcp.mx.example.org", rrtype::TLSA, flags, pkt, {{3, 1, 1}});
  EXPECT_EQ(a.security, Security::secure);
  EXPECT_EQ(a.kind, AnswerKind::data);
  EXPECT_EQ(a.ttl, 300u);
  ASSERT_EQ(a.rdata.size(), 1u);
  EXPECT_EQ(a.cname_targets, std::vector<std::string>{"_25._tcp.mx.provider.example"});
  EXPECT_TRUE(a.soa_zone.empty());
  EXPECT_TRUE(a.detail.empty());
}

TEST(ClassifyAnswer, NodataAndNxdomainCarryTheSoaNegativeTtl) {
  auto nodata = packet(
      "000381a00001000000010000026d78076578616d706c65036f726700001c0001c00f0006000100000e100027036e7331c00f0a686f737"
      "46d6173746572c00f78c423a500001c2000000e10001275000000012c");
  ResultFlags flags;
  flags.secure = true;
  auto a = classify_answer("mx.example.org", rrtype::AAAA, flags, nodata, {});
  EXPECT_EQ(a.kind, AnswerKind::nodata);
  EXPECT_EQ(a.security, Security::secure);
  EXPECT_EQ(a.soa_zone, "example.org");
  EXPECT_EQ(a.negative_ttl, 300u);  // min(SOA TTL 3600, MINIMUM 300), RFC 2308 §5

  auto nx = packet(
      "000481830001000000010000035f3235045f746370026d78076578616d706c65036f72670000340001c01800060001000151800027036e7"
      "331c0180a686f73746d6173746572c01878c423a500001c2000000e100012750000000384");
  ResultFlags nxflags;
  nxflags.nxdomain = true;
  nxflags.rcode = 3;
  auto b = classify_answer("_25._tcp.mx.example.org", rrtype::TLSA, nxflags, nx, {});
  EXPECT_EQ(b.kind, AnswerKind::nxdomain);
  EXPECT_EQ(b.security, Security::insecure);
  EXPECT_EQ(b.negative_ttl, 900u);
}

TEST(ClassifyAnswer, BogusFirstThenRcodeThenData) {
  ResultFlags bogus;
  bogus.bogus = true;
  bogus.havedata = true;
  bogus.secure = true;
  bogus.why_bogus = "signature expired";
  auto a = classify_answer("mx.example.org", rrtype::A, bogus, {}, {{127, 0, 0, 1}});
  EXPECT_EQ(a.security, Security::bogus);
  EXPECT_EQ(a.kind, AnswerKind::failure);
  EXPECT_EQ(a.detail, "signature expired");
  EXPECT_TRUE(a.rdata.empty());

  ResultFlags refused;
  refused.rcode = 5;
  EXPECT_EQ(classify_answer("example.org", rrtype::MX, refused, {}, {}).detail, "REFUSED");
  refused.rcode = 2;
  EXPECT_EQ(classify_answer("example.org", rrtype::MX, refused, {}, {}).detail, "SERVFAIL");

  // "Data" without records never reaches the policy as data.
  ResultFlags empty;
  empty.havedata = true;
  empty.ttl = -5;
  auto c = classify_answer("example.org", rrtype::MX, empty, packet("00"), {});
  EXPECT_EQ(c.kind, AnswerKind::failure);
  EXPECT_EQ(c.security, Security::indeterminate);
  EXPECT_EQ(c.ttl, 0u);
}

std::vector<std::uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }

TEST(ZoneFile, TrustAnchorsAndRootHints) {
  auto ta = parse_trust_anchors(bytes("$ORIGIN .\n; KSK-2024\n@ 3600 IN DS ( 38696 8 2\n"
                                      "  683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16 )\n"
                                      "example. 3600 IN A 192.0.2.1\n"),
                                "ta.key");
  ASSERT_TRUE(ta) << ta.error();
  ASSERT_EQ(ta->size(), 1u);
  EXPECT_EQ((*ta)[0].owner, ".");
  EXPECT_EQ((*ta)[0].type, 43);
  EXPECT_NE((*ta)[0].text.find("38696 8 2 683d2d0acb8c9b71"), std::string::npos) << (*ta)[0].text;

  auto hints = parse_root_hints(bytes(". 3600000 NS ns.root-lab.\nns.root-lab. 3600000 A 127.53.0.1\n"), "h");
  ASSERT_TRUE(hints) << hints.error();
  EXPECT_EQ(hints->ns, 1u);
  EXPECT_EQ(hints->addresses, std::vector<std::string>{"127.53.0.1"});
}

TEST(ZoneFile, OneLineErrors) {
  const std::pair<std::string, std::string> ta_cases[] = {
      {"", "trust anchor file 'ta.key' is empty"},
      {std::string(". IN DS 1 8 2 00\0", 17), "holds a NUL byte"},
      {". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC\n",
       "the DS for key tag 20326 has a 31-byte digest; digest type 2 needs 32 bytes"},
      {". IN A 192.0.2.1\n", "holds no DS or DNSKEY records"},
      {"$INCLUDE /etc/passwd\n", "trust anchor file 'ta.key' line 1:"},
      {". IN DS 20326 8 2 zz\n", "trust anchor file 'ta.key' line 1:"},
      {"; the root\n\n. IN DS 20326 8 2 zz", "trust anchor file 'ta.key' line 3:"},
      {"$TTL 60\n. IN DS ( 20326 8 2\n zz )\n", "trust anchor file 'ta.key' line 3:"},
  };
  for (const auto& [text, fragment] : ta_cases) {
    auto r = parse_trust_anchors(bytes(text), "ta.key");
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().find(fragment), std::string::npos) << r.error();
    EXPECT_EQ(r.error().find('\n'), std::string::npos) << r.error();
  }
  auto no_ns = parse_root_hints(bytes("a.root. 3600 A 192.0.2.1\n"), "h");
  ASSERT_FALSE(no_ns);
  EXPECT_EQ(no_ns.error(), "root hints file 'h' needs NS records and their A or AAAA addresses");
  std::string many;
  for (std::size_t i = 0; i <= max_zone_file_records; ++i) many += ". 3600 NS a.root.\n";
  auto too_many = parse_root_hints(bytes(many), "h");
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().find("more than 10000 records"), std::string::npos) << too_many.error();
}

}  // namespace
}  // namespace danekit
