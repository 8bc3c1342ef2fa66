#include <gtest/gtest.h>

#include "danekit/tlsa.h"

namespace danekit {
namespace {

TEST(Tlsa, ParsesNumbersAndMnemonics) {
  auto r = parse_tlsa_text("DANE-EE SPKI SHA2-256 " + std::string(64, 'a'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->usage, 3);
  EXPECT_EQ(r->selector, 1);
  EXPECT_EQ(r->mtype, 1);
  EXPECT_EQ(r->data.size(), 32u);
  auto n = parse_tlsa_text("  2\t0 2  " + std::string(64, 'B') + " \n " + std::string(64, 'c'));
  ASSERT_TRUE(n) << n.error();
  EXPECT_EQ(n->usage, 2);
  EXPECT_EQ(n->data.size(), 64u);
}

TEST(Tlsa, RejectsBadInputWithAReason) {
  struct Case {
    std::string text, fragment;
  };
  std::vector<Case> cases{
      {"3 1 1", "needs usage"},
      {"4x 1 1 aa", "invalid TLSA usage"},
      {"3 1 1 zz", "not valid hex"},
      {"3 1 1 abc", "not valid hex"},
      {"3 1 1 " + std::string(62, 'a'), "31 bytes long, it must be 32"},
      {"3 1 2 " + std::string(64, 'a'), "32 bytes long, it must be 64"},
      {"300 1 1 aa", "invalid TLSA usage"},
  };
  for (const auto& c : cases) {
    auto r = parse_tlsa_text(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().find(c.fragment), std::string::npos) << c.text << " -> " << r.error();
  }
}

TEST(Tlsa, UsabilityFollowsRfc7672) {
  auto data32 = std::vector<std::uint8_t>(32, 1);
  EXPECT_TRUE(usable_for_smtp({3, 1, 1, data32}));
  EXPECT_TRUE(usable_for_smtp({2, 0, 1, data32}));
  EXPECT_FALSE(usable_for_smtp({0, 0, 1, data32}));  // PKIX-TA
  EXPECT_FALSE(usable_for_smtp({1, 1, 1, data32}));  // PKIX-EE
  EXPECT_FALSE(usable_for_smtp({4, 1, 1, data32}));
  EXPECT_FALSE(usable_for_smtp({3, 2, 1, data32}));
  EXPECT_FALSE(usable_for_smtp({3, 1, 3, data32}));
  EXPECT_FALSE(usable_for_smtp({3, 1, 1, std::vector<std::uint8_t>(31, 1)}));
  EXPECT_FALSE(usable_for_smtp({3, 1, 2, data32}));
  EXPECT_FALSE(usable_for_smtp({3, 1, 0, {}}));
  EXPECT_NE(unusable_reason({1, 1, 1, data32})->find("RFC 7672"), std::string::npos);
}

TEST(Tlsa, NamesAndPresentation) {
  TlsaRecord r{3, 1, 1, {0xab, 0x01}};
  EXPECT_EQ(describe_parameters(r), "DANE-EE(3) SPKI(1) SHA2-256(1)");
  EXPECT_EQ(to_presentation(r), "3 1 1 ab01");
  EXPECT_EQ(usage_name(7), "unassigned(7)");
}

TEST(Tlsa, WireRoundTrip) {
  auto r = parse_tlsa_wire({3, 1, 1, 0xde, 0xad});
  ASSERT_TRUE(r);
  EXPECT_EQ(to_presentation(*r), "3 1 1 dead");
  EXPECT_FALSE(parse_tlsa_wire({3, 1}));
}

}  // namespace
}  // namespace danekit

namespace danekit {
namespace {

TEST(TlsaText, DataLongerThanAnRdataCanHoldIsRefused) {
  std::string max = "3 0 0 " + std::string(65532 * 2, 'a');
  EXPECT_TRUE(parse_tlsa_text(max));
  auto r = parse_tlsa_text("3 0 0 " + std::string(65533 * 2, 'a'));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("at most 65532"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace danekit
