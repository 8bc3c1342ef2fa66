// Deterministic partition of a scan's input: `danekit scan --shard K/N`.
//
// A domain belongs to shard K of N when
//
//     u64(first 8 bytes of SHA-256(domain)) mod N == K
//
// where `domain` is the normalized A-label form (lower case, no trailing dot,
// as normalize_domain returns it) and the 8 bytes are read big-endian. The
// shards of one N are disjoint and together hold every domain; the rule needs
// no coordinator and gives the same answer on every machine. By hand:
//
//     printf %s example.org | sha256sum | cut -c1-16   # then that hex mod N
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace danekit::scan {

inline constexpr std::uint32_t kMaxShards = 1u << 20;

struct Shard {
  std::uint32_t index = 0;
  std::uint32_t count = 1;  // 1: the whole input

  bool operator==(const Shard&) const = default;
  std::string text() const;  // "K/N"
};

// "K/N" with 0 <= K < N <= kMaxShards, decimal digits only.
tl::expected<Shard, std::string> parse_shard(std::string_view text);

std::uint64_t shard_hash(std::string_view domain);
bool in_shard(std::string_view domain, const Shard& shard);

}  // namespace danekit::scan
