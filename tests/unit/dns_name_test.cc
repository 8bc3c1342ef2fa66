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

}  // namespace
}  // namespace danekit
