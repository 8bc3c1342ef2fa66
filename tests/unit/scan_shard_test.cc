// --shard K/N: the partition is a pure function of the domain, the shards are
// disjoint and cover the input, and the documented hash is the one in use.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <set>
#include <string>
#include <vector>

#include "scan/shard.h"

namespace danekit::scan {
namespace {

TEST(ScanShard, Parses) {
  auto s = parse_shard("2/5");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->index, 2u);
  EXPECT_EQ(s->count, 5u);
  EXPECT_EQ(s->text(), "2/5");
  EXPECT_TRUE(parse_shard("0/1").has_value());
  for (const char* bad : {"", "1", "3/3", "1/0", "-1/3", "a/3", "1/3/4", " 1/3", "1/ 3", "0/99999999999", "0/2097152"})
    EXPECT_FALSE(parse_shard(bad).has_value()) << bad;
  EXPECT_EQ(parse_shard("3/3").error(), "--shard: K must be between 0 and 2");
}

TEST(ScanShard, TheHashIsTheDocumentedOne) {
  // printf %s example.org | sha256sum | cut -c1-16  ->  bfabc37432958b06
  EXPECT_EQ(shard_hash("example.org"), 0xbfabc37432958b06ull);
  EXPECT_EQ(shard_hash("xn--bcher-kva.example"), 0x970ca6b73eaf2630ull);
  EXPECT_TRUE(in_shard("example.org", Shard{0, 3}));
  EXPECT_TRUE(in_shard("xn--bcher-kva.example", Shard{1, 3}));
}

TEST(ScanShard, ShardsAreDisjointAndCoverEverything) {
  std::vector<std::string> domains;
  for (int i = 0; i < 3000; ++i) domains.push_back(fmt::format("d{}.example", i));
  for (std::uint32_t n : {1u, 2u, 3u, 7u}) {
    std::vector<std::set<std::string>> shards(n);
    for (const auto& d : domains) {
      int owners = 0;
      for (std::uint32_t k = 0; k < n; ++k) {
        if (in_shard(d, Shard{k, n})) {
          ++owners;
          shards[k].insert(d);
        }
      }
      EXPECT_EQ(owners, 1) << d << " in " << n;
    }
    std::size_t sum = 0;
    for (const auto& s : shards) {
      sum += s.size();
      // Roughly even: every shard within 20% of its share.
      EXPECT_GT(s.size() * n, domains.size() * 8 / 10);
      EXPECT_LT(s.size() * n, domains.size() * 12 / 10);
    }
    EXPECT_EQ(sum, domains.size());
  }
}

TEST(ScanShard, Stable) {
  for (int i = 0; i < 100; ++i) {
    auto d = fmt::format("stable{}.example", i);
    EXPECT_EQ(shard_hash(d), shard_hash(std::string(d)));
  }
}

}  // namespace
}  // namespace danekit::scan
