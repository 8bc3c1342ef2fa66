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
}

}  // namespace
}  // namespace danekit
