// The IANA special-purpose address table (danekit/special_address.h) and the
// longest-prefix lookup over it. The rows are data: one per registry entry,
// copied column by column from the registries named in each group's comment.
#include "danekit/special_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "util/hex.h"

namespace danekit {

namespace {

using F = RegistryFlag;
constexpr F T = F::yes;
constexpr F N = F::no;
constexpr F NA = F::not_applicable;

// Where an entry's addresses carry an IPv4 address (byte offset in the 16-byte
// address), and what the carrier is called.
struct Embedding {
  std::string_view name;
  int offset = -1;  // -1: none
};

struct Row {
  SpecialRange range;
  Embedding embedding;
};

constexpr std::string_view v4_registry = "IANA IPv4 Special-Purpose Address Registry";
constexpr std::string_view v6_registry = "IANA IPv6 Special-Purpose Address Registry";
constexpr std::string_view v4_multicast = "IANA IPv4 Multicast Address Space";
constexpr std::string_view v6_multicast = "IANA IPv6 Multicast Address Space";
constexpr std::string_view v6_space = "IANA IPv6 Address Space";

constexpr std::string_view loopback_note =
    "[1] Several protocols have been granted exceptions to this rule. For examples, see RFC 8029 and RFC 5884.";
constexpr std::string_view only_more_specific = "Not useable unless by virtue of a more specific reservation.";
constexpr std::string_view unless_more_specific = "[1] Unless allowed by a more specific allocation.";
constexpr std::string_view terminated = "Terminated (the registry leaves the columns blank).";
constexpr std::string_view reserved_space =
    "Not in the special-purpose registry: reserved by the IETF, never allocated, so no mail server is there "
    "(Globally Reachable is danekit's reading).";
constexpr std::string_view multicast_note =
    "Not in the special-purpose registries: multicast is never a TCP peer, so never an SMTP server (the columns "
    "are danekit's reading of the RFC).";

// Columns: prefix, name, RFC, registry, Source, Destination, Forwardable,
// Globally Reachable, Reserved-by-Protocol, footnote.
const std::array rows{
    // IANA IPv4 Special-Purpose Address Registry, last updated 2021-02-04 (as
    // published until 2025), plus 192.88.99.2/32 (RFC 6751), added in 2025.
    Row{{"0.0.0.0/8", "\"This network\"", "RFC 791 §3.2", v4_registry, T, N, N, N, T, {}}, {}},
    Row{{"0.0.0.0/32", "\"This host on this network\"", "RFC 1122 §3.2.1.3", v4_registry, T, N, N, N, T, {}}, {}},
    Row{{"10.0.0.0/8", "Private-Use", "RFC 1918", v4_registry, T, T, T, N, N, {}}, {}},
    Row{{"100.64.0.0/10", "Shared Address Space", "RFC 6598", v4_registry, T, T, T, N, N, {}}, {}},
    Row{{"127.0.0.0/8", "Loopback", "RFC 1122 §3.2.1.3", v4_registry, N, N, N, N, T, loopback_note}, {}},
    Row{{"169.254.0.0/16", "Link Local", "RFC 3927", v4_registry, T, T, N, N, T, {}}, {}},
    Row{{"172.16.0.0/12", "Private-Use", "RFC 1918", v4_registry, T, T, T, N, N, {}}, {}},
    Row{{"192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890 §2.1", v4_registry, N, N, N, N, N, only_more_specific},
        {}},
    Row{{"192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", v4_registry, T, T, T, N, N, {}}, {}},
    Row{{"192.0.0.8/32", "IPv4 dummy address", "RFC 7600", v4_registry, T, N, N, N, N, {}}, {}},
    Row{{"192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", v4_registry, T, T, T, T, N, {}}, {}},
    Row{{"192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", v4_registry, T, T, T, T, N, {}}, {}},
    // One registry entry of two addresses.
    Row{{"192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 §2.2", v4_registry, N, N, N, N, T, {}}, {}},
    Row{{"192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 §2.2", v4_registry, N, N, N, N, T, {}}, {}},
    Row{{"192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", v4_registry, N, N, N, N, N, {}}, {}},
    Row{{"192.31.196.0/24", "AS112-v4", "RFC 7535", v4_registry, T, T, T, T, N, {}}, {}},
    Row{{"192.52.193.0/24", "AMT", "RFC 7450", v4_registry, T, T, T, T, N, {}}, {}},
    Row{{"192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", v4_registry, NA, NA, NA, NA, NA, terminated},
        {}},
    Row{{"192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", v4_registry, T, T, T, N, N, {}}, {}},
    Row{{"192.168.0.0/16", "Private-Use", "RFC 1918", v4_registry, T, T, T, N, N, {}}, {}},
    Row{{"192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", v4_registry, T, T, T, T, N, {}}, {}},
    Row{{"198.18.0.0/15", "Benchmarking", "RFC 2544", v4_registry, T, T, T, N, N, {}}, {}},
    Row{{"198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", v4_registry, N, N, N, N, N, {}}, {}},
    Row{{"203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", v4_registry, N, N, N, N, N, {}}, {}},
    Row{{"240.0.0.0/4", "Reserved", "RFC 1112 §4", v4_registry, N, N, N, N, T, {}}, {}},
    Row{{"255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919 §7", v4_registry, N, T, N, N, T, {}}, {}},
    // IANA IPv4 Multicast Address Space Registry (RFC 5771).
    Row{{"224.0.0.0/4", "Multicast", "RFC 5771", v4_multicast, N, T, T, NA, T, multicast_note}, {}},

    // IANA IPv6 Special-Purpose Address Registry, last updated 2024-10-22, plus
    // 100:0:0:1::/64 (RFC 9780), added in 2025.
    Row{{"::1/128", "Loopback Address", "RFC 4291", v6_registry, N, N, N, N, T, {}}, {}},
    Row{{"::/128", "Unspecified Address", "RFC 4291", v6_registry, T, N, N, N, T, {}}, {}},
    Row{{"::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", v6_registry, N, N, N, N, T, {}}, {"IPv4-mapped", 12}},
    // RFC 6052 §2.2: the /96 layout, the IPv4 address in the last 32 bits.
    Row{{"64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", v6_registry, T, T, T, T, N, {}}, {"NAT64", 12}},
    // RFC 8215 leaves the layout to the operator; read as the /96 layout, the usual one.
    Row{{"64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", v6_registry, T, T, T, N, N, {}}, {"NAT64", 12}},
    Row{{"100::/64", "Discard-Only Address Block", "RFC 6666", v6_registry, T, T, T, N, N, {}}, {}},
    Row{{"100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", v6_registry, T, N, N, N, N, {}}, {}},
    Row{{"2001::/23", "IETF Protocol Assignments", "RFC 2928", v6_registry, N, N, N, N, N, unless_more_specific}, {}},
    Row{{"2001::/32", "TEREDO", "RFC 4380, RFC 8190", v6_registry, T, T, T, NA, N,
         "[2] See Section 5 of RFC 4380 for details."},
        {}},
    Row{{"2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", v6_registry, T, T, T, T, N, {}}, {}},
    Row{{"2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", v6_registry, T, T, T, T, N, {}}, {}},
    Row{{"2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", v6_registry, T, T, T, T, N, {}},
        {}},
    Row{{"2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752", v6_registry, T, T, T, N, N, {}}, {}},
    Row{{"2001:3::/32", "AMT", "RFC 7450", v6_registry, T, T, T, T, N, {}}, {}},
    Row{{"2001:4:112::/48", "AS112-v6", "RFC 7535", v6_registry, T, T, T, T, N, {}}, {}},
    Row{{"2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", v6_registry, NA, NA, NA, NA, NA, terminated},
        {}},
    Row{{"2001:20::/28", "ORCHIDv2", "RFC 7343", v6_registry, T, T, T, T, N, {}}, {}},
    Row{{"2001:30::/28",
         "Drone Remote ID Protocol Entity Tags (DETs) Prefix",
         "RFC 9374",
         v6_registry,
         T,
         T,
         T,
         T,
         N,
         {}},
        {}},
    Row{{"2001:db8::/32", "Documentation", "RFC 3849", v6_registry, N, N, N, N, N, {}}, {}},
    // RFC 3056 §2: 2002:V4ADDR::/48, the IPv4 address in bits 16-47.
    Row{{"2002::/16", "6to4", "RFC 3056", v6_registry, T, T, T, NA, N, "[3] See RFC 3056 for details."}, {"6to4", 2}},
    Row{{"2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", v6_registry, T, T, T, T, N, {}}, {}},
    Row{{"3fff::/20", "Documentation", "RFC 9637", v6_registry, N, N, N, N, N, {}}, {}},
    Row{{"5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", v6_registry, T, T, T, N, N, {}}, {}},
    Row{{"fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", v6_registry, T, T, T, N, N,
         "[4] See RFC 4193 for more details on the routability of Unique-Local addresses. The Unique-Local prefix is "
         "drawn from the IPv6 Global Unicast Address range, but is specified as not globally routed."},
        {}},
    Row{{"fe80::/10", "Link-Local Unicast", "RFC 4291", v6_registry, T, T, N, N, T, {}}, {}},
    // IANA IPv6 Multicast Address Space (RFC 4291 §2.7).
    Row{{"ff00::/8", "Multicast", "RFC 4291 §2.7", v6_multicast, N, T, T, NA, T, multicast_note}, {}},
    // RFC 4291 §2.5.5.1: deprecated, the IPv4 address in the last 32 bits.
    Row{{"::/96", "IPv4-compatible IPv6 address (deprecated)", "RFC 4291 §2.5.5.1", v6_space, NA, NA, NA, N, NA,
         "Not in the special-purpose registry: deprecated by RFC 4291 (noted in the IANA IPv6 Address Space)."},
        {"IPv4-compatible", 12}},
    // IANA IPv6 Address Space, last updated 2024-09-10: the blocks "Reserved by
    // IETF". Outside them lie only 2000::/3, fc00::/7, fe80::/10 and ff00::/8.
    Row{{"::/8", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"100::/8", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"200::/7", "Reserved by IETF (formerly OSI NSAP-mapped)", "RFC 4048", v6_space, NA, NA, NA, N, NA,
         reserved_space},
        {}},
    Row{{"400::/6", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"800::/5", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"1000::/4", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"4000::/3", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"6000::/3", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"8000::/3", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"a000::/3", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"c000::/3", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"e000::/4", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"f000::/5", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"f800::/6", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"fe00::/9", "Reserved by IETF", "RFC 4291", v6_space, NA, NA, NA, N, NA, reserved_space}, {}},
    Row{{"fec0::/10", "Reserved by IETF (formerly Site-Local)", "RFC 3879", v6_space, NA, NA, NA, N, NA,
         reserved_space},
        {}},
};

// A row's prefix in bytes, parsed once.
struct Parsed {
  int family = 0;                       // AF_INET | AF_INET6
  std::array<unsigned char, 16> net{};  // 4 bytes used for AF_INET
  int bits = 0;
  const Row* row = nullptr;
};

std::vector<Parsed> parse_rows() {
  std::vector<Parsed> out;
  for (const auto& r : rows) {
    std::string text(r.range.prefix);
    auto slash = text.find('/');
    Parsed p;
    p.row = &r;
    p.bits = std::stoi(text.substr(slash + 1));
    std::string addr = text.substr(0, slash);
    p.family = addr.find(':') == std::string::npos ? AF_INET : AF_INET6;
    if (inet_pton(p.family, addr.c_str(), p.net.data()) != 1) continue;  // cannot happen: the test reads every row
    out.push_back(p);
  }
  return out;
}

const std::vector<Parsed>& parsed() {
  static const std::vector<Parsed> table = parse_rows();
  return table;
}

bool in_prefix(const unsigned char* addr, const Parsed& p) {
  int full = p.bits / 8, rest = p.bits % 8;
  if (std::memcmp(addr, p.net.data(), static_cast<std::size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (addr[full] & mask) == (p.net[static_cast<std::size_t>(full)] & mask);
}

const Row* most_specific(int family, const unsigned char* addr) {
  const Parsed* best = nullptr;
  for (const auto& p : parsed()) {
    if (p.family != family || !in_prefix(addr, p)) continue;
    if (!best || p.bits > best->bits) best = &p;
  }
  return best ? best->row : nullptr;
}

std::string ntop(int family, const unsigned char* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, addr, buf, sizeof buf);
  return buf;
}

std::optional<SpecialAddress> classify(int family, const unsigned char* addr) {
  const Row* row = most_specific(family, addr);
  if (!row) return std::nullopt;
  SpecialAddress out;
  out.address = ntop(family, addr);
  out.range = row->range;
  if (row->embedding.offset >= 0) {
    const unsigned char* v4 = addr + row->embedding.offset;
    out.embedding = row->embedding.name;
    out.embedded_ipv4 = ntop(AF_INET, v4);
    if (const Row* inner = most_specific(AF_INET, v4)) out.embedded_range = inner->range;
  }
  return out;
}

}  // namespace

std::string_view to_string(RegistryFlag f) {
  switch (f) {
    case RegistryFlag::no: return "False";
    case RegistryFlag::yes: return "True";
    case RegistryFlag::not_applicable: return "N/A";
  }
  return "N/A";
}

bool SpecialAddress::refuse_as_target() const {
  if (range.globally_reachable != RegistryFlag::yes) return true;
  return embedded_range && embedded_range->globally_reachable != RegistryFlag::yes;
}

tl::expected<std::optional<SpecialAddress>, std::string> classify_special(std::string_view text) {
  constexpr std::size_t max_text = 64;
  auto refuse = [&](std::string_view why) {
    return tl::make_unexpected(std::string(why) + ": " + sanitize_for_display(text.substr(0, max_text)));
  };
  if (text.empty()) return tl::make_unexpected(std::string("empty address"));
  if (text.size() > max_text) return refuse("not an IP address (too long)");
  if (text.find('\0') != std::string_view::npos) return refuse("not an IP address (NUL byte)");
  std::string s(text);
  int family = s.find(':') == std::string::npos ? AF_INET : AF_INET6;
  std::array<unsigned char, 16> addr{};
  if (inet_pton(family, s.c_str(), addr.data()) != 1)
    return refuse(family == AF_INET ? "not an IPv4 address" : "not an IPv6 address");
  return classify(family, addr.data());
}

tl::expected<std::optional<SpecialAddress>, std::string> classify_special_bytes(
    const std::vector<unsigned char>& bytes) {
  if (bytes.size() == 4) return classify(AF_INET, bytes.data());
  if (bytes.size() == 16) return classify(AF_INET6, bytes.data());
  return tl::make_unexpected("an IP address has 4 or 16 bytes, not " + std::to_string(bytes.size()));
}

const std::vector<SpecialRange>& special_ranges() {
  static const std::vector<SpecialRange> all = [] {
    std::vector<SpecialRange> v;
    for (const auto& r : rows) v.push_back(r.range);
    return v;
  }();
  return all;
}

}  // namespace danekit
