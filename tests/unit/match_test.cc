// Per-record findings against chains: matches, near misses, agility, empty digests.
#include <gtest/gtest.h>

#include "danekit/match.h"
#include "test_pki.h"
#include "util/hex.h"

namespace danekit {
namespace {

using namespace testing;

struct Chain {
  Issued root = issue("Lab Root", nullptr, true);
  Issued inter = issue("Lab Int", &root, true);
  Issued leaf = issue("mx.example", &inter, false, {"mx.example"});
  std::vector<CertInfo> infos() const { return {info_of(leaf.cert), info_of(inter.cert)}; }
};

TlsaRecord rec(std::uint8_t u, std::uint8_t s, std::uint8_t m, const CertInfo& c) {
  return TlsaRecord{u, s, m, tlsa_association(c, s, m)};
}

TEST(Match, EeAndTaRecordsMatchAtTheirOwnDepths) {
  Chain c;
  auto infos = c.infos();
  std::vector<TlsaRecord> records{rec(3, 1, 1, infos[0]), rec(2, 0, 2, infos[1])};
  auto f = analyze_records(records, {{"192.0.2.1", infos}});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].status, RecordStatus::matched);
  ASSERT_EQ(f[0].matches.size(), 1u);
  EXPECT_EQ(f[0].matches[0].depth, 0);
  EXPECT_EQ(f[1].status, RecordStatus::matched);
  EXPECT_EQ(f[1].matches[0].depth, 1);
}

TEST(Match, DaneEeOfTheIssuerIsANearMissPointingTo211) {
  Chain c;
  auto infos = c.infos();
  auto f = analyze_records({rec(3, 1, 1, infos[1])}, {{"192.0.2.1", infos}});
  EXPECT_EQ(f[0].status, RecordStatus::unmatched);
  EXPECT_NE(f[0].note.find("did you mean 2 1 1?"), std::string::npos) << f[0].note;
}

TEST(Match, DaneTaOfTheLeafPointsTo3) {
  Chain c;
  auto infos = c.infos();
  auto f = analyze_records({rec(2, 1, 1, infos[0])}, {{"192.0.2.1", infos}});
  EXPECT_NE(f[0].note.find("did you mean 3 1 1?"), std::string::npos) << f[0].note;
}

TEST(Match, OtherSelectorIsANearMiss) {
  Chain c;
  auto infos = c.infos();
  auto f = analyze_records({TlsaRecord{3, 1, 1, tlsa_association(infos[0], 0, 1)}}, {{"a", infos}});
  EXPECT_NE(f[0].note.find("did you mean 3 0 1?"), std::string::npos) << f[0].note;
}

TEST(Match, DigestOfEmptyInputIsNamed) {
  Chain c;
  auto f = analyze_records({TlsaRecord{3, 1, 1, tlsa_digest(1, {})}}, {{"a", c.infos()}});
  EXPECT_NE(f[0].note.find("empty input"), std::string::npos);
}

TEST(Match, AFewHexDigitsOffIsATypo) {
  Chain c;
  auto infos = c.infos();
  auto r = rec(3, 1, 1, infos[0]);
  r.data[5] ^= 0x01;
  auto f = analyze_records({r}, {{"192.0.2.7", infos}});
  EXPECT_NE(f[0].note.find("1 hex digit off"), std::string::npos) << f[0].note;
}

TEST(Match, WrongSha512HidesRightSha256) {
  Chain c;
  auto infos = c.infos();
  auto good = rec(3, 1, 1, infos[0]);
  TlsaRecord bad{3, 1, 2, std::vector<std::uint8_t>(64, 0x42)};
  auto hidden = hidden_by_agility({good, bad});
  ASSERT_EQ(hidden.size(), 1u);
  EXPECT_EQ(hidden[0], good);
  auto f = analyze_records({good, bad}, {{"a", infos}});
  EXPECT_EQ(f[0].status, RecordStatus::hidden);
  EXPECT_EQ(f[0].matches.size(), 1u);  // it would have matched
  EXPECT_EQ(f[1].status, RecordStatus::unmatched);
}

TEST(Match, AgilityIsPerUsageAndSelector) {
  Chain c;
  auto infos = c.infos();
  EXPECT_TRUE(hidden_by_agility({rec(3, 1, 1, infos[0]), rec(3, 0, 2, infos[0])}).empty());
  EXPECT_TRUE(hidden_by_agility({rec(3, 1, 1, infos[0]), rec(2, 1, 2, infos[1])}).empty());
}

TEST(Match, PkixUsageIsUnusableEvenWhenItMatches) {
  Chain c;
  auto infos = c.infos();
  auto f = analyze_records({rec(1, 1, 1, infos[0])}, {{"a", infos}});
  EXPECT_EQ(f[0].status, RecordStatus::unusable);
  ASSERT_TRUE(f[0].unusable);
  EXPECT_NE(f[0].note.find("publish 3 1 1"), std::string::npos) << f[0].note;
}

TEST(Cert, ParsesNamesDatesAndKey) {
  Chain c;
  auto info = info_of(c.leaf.cert);
  EXPECT_EQ(info.dns_names, std::vector<std::string>{"mx.example"});
  EXPECT_EQ(info.common_name, "mx.example");
  EXPECT_FALSE(info.is_ca);
  EXPECT_TRUE(info_of(c.inter.cert).is_ca);
  EXPECT_EQ(info.key_type, "EC prime256v1");
  EXPECT_LT(info.not_before, info.not_after);
  EXPECT_EQ(info.spki_sha256, to_hex(tlsa_digest(1, info.spki_der)));
}

TEST(Cert, RejectsGarbage) {
  EXPECT_FALSE(parse_certificate_der({0x30, 0x03, 0x01, 0x02}));
  EXPECT_FALSE(parse_certificate_der({}));
}

}  // namespace
}  // namespace danekit
