#include <gtest/gtest.h>

#include "danekit/dns.h"

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

TEST(DomainInput, RootAndTld) {
  EXPECT_TRUE(is_root_or_tld(""));
  EXPECT_TRUE(is_root_or_tld("com"));
  EXPECT_TRUE(is_root_or_tld("com."));
  EXPECT_FALSE(is_root_or_tld("example.com"));
}

}  // namespace
}  // namespace danekit
