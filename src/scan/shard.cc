#include "scan/shard.h"

#include <fmt/format.h>
#include <charconv>
#include <vector>

#include "danekit/cert.h"
#include "danekit/tlsa.h"

namespace danekit::scan {

namespace {

bool parse_u32(std::string_view s, std::uint32_t& out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string Shard::text() const { return fmt::format("{}/{}", index, count); }

tl::expected<Shard, std::string> parse_shard(std::string_view text) {
  auto slash = text.find('/');
  Shard s;
  if (slash == std::string_view::npos || !parse_u32(text.substr(0, slash), s.index) ||
      !parse_u32(text.substr(slash + 1), s.count)) {
    return tl::unexpected(std::string("--shard must be K/N, e.g. 0/4"));
  }
  if (s.count == 0 || s.count > kMaxShards) {
    return tl::unexpected(fmt::format("--shard: N must be between 1 and {}", kMaxShards));
  }
  if (s.index >= s.count) return tl::unexpected(fmt::format("--shard: K must be between 0 and {}", s.count - 1));
  return s;
}

std::uint64_t shard_hash(std::string_view domain) {
  std::vector<std::uint8_t> in(domain.begin(), domain.end());
  auto d = tlsa_digest(mtype::sha256, in);
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < 8 && i < d.size(); ++i) h = (h << 8) | d[i];
  return h;
}

bool in_shard(std::string_view domain, const Shard& shard) {
  return shard.count <= 1 || shard_hash(domain) % shard.count == shard.index;
}

}  // namespace danekit::scan
