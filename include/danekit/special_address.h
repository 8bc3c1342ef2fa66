// Is this address one a mail sender should connect to at all? The IANA IPv4
// and IPv6 Special-Purpose Address Registries (RFC 6890, RFC 8190) as a table:
// an address literal in, the most specific registry entry that holds it out,
// with the registry's columns as they are published (True / False / N/A, and
// the footnote when a cell has one).
//
// The check flags MX addresses found here with reason code
// `address-special-purpose`; a service that takes targets from users must
// refuse them. `docs/special-addresses.md` lists the sources and their dates.
//
// Beside the two registries the table holds rows sourced elsewhere, each naming
// its source in `registry`: IPv4 multicast 224.0.0.0/4 (IANA IPv4 Multicast
// Address Space), IPv6 multicast ff00::/8, the deprecated IPv4-compatible
// ::/96 and the blocks the IANA IPv6 Address Space registry keeps "Reserved by
// IETF" (fec0::/10, 200::/7, 4000::/3 ...), none of which is ever a mail server.
//
// Addresses that carry an IPv4 address inside are unwrapped: IPv4-mapped
// (::ffff:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96, RFC 6052;
// 64:ff9b:1::/48, RFC 8215, read in the /96 layout) and 6to4 (2002::/16, bits
// 16-47, RFC 3056). The embedded address is classified too, so
// `::ffff:127.0.0.1` and `2002:7f00:1::` are loopback underneath.
//
// Pure: no I/O, no clock, no state. Thread-safe.
//
//   auto r = classify_special("::ffff:10.1.2.3");
//   // r.value()->range.name == "IPv4-mapped Address"
//   // r.value()->embedded_ipv4 == "10.1.2.3", embedded_range->name == "Private-Use"
//   // r.value()->refuse_as_target() == true
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace danekit {

// One cell of the registry's boolean columns.
enum class RegistryFlag {
  no,              // "False"
  yes,             // "True"
  not_applicable,  // "N/A", or blank (a terminated entry)
};
std::string_view to_string(RegistryFlag f);  // "False" | "True" | "N/A"

// One row of the table: a registry entry, with its columns.
struct SpecialRange {
  std::string_view prefix;    // as the registry writes it: "192.0.0.0/24", "2001:db8::/32"
  std::string_view name;      // the registry's Name column: "Private-Use", "Loopback Address"
  std::string_view rfc;       // "RFC 1918", "RFC 1122 §3.2.1.3"
  std::string_view registry;  // "IANA IPv4 Special-Purpose Address Registry", ...
  RegistryFlag source = RegistryFlag::not_applicable;
  RegistryFlag destination = RegistryFlag::not_applicable;
  RegistryFlag forwardable = RegistryFlag::not_applicable;
  RegistryFlag globally_reachable = RegistryFlag::not_applicable;
  RegistryFlag reserved_by_protocol = RegistryFlag::not_applicable;
  std::string_view footnote;  // the registry's footnote on this entry, or why a row is here
};

struct SpecialAddress {
  std::string address;  // canonical text (inet_ntop)
  SpecialRange range;   // the most specific entry holding `address`
  // For the forms that carry an IPv4 address: what it is and where it sits.
  std::string_view embedding;                  // "IPv4-mapped", "IPv4-compatible", "NAT64", "6to4"; empty: none
  std::optional<std::string> embedded_ipv4;    // dotted quad
  std::optional<SpecialRange> embedded_range;  // the embedded address's entry, if it is special too

  // A sender or a service taking targets should not connect here: true unless
  // the entry is Globally Reachable "True" and so is the embedded address, if
  // any (an ordinary embedded address counts as reachable). So 192.0.0.9 (PCP
  // anycast) and 64:ff9b::8.8.8.8 pass; 2001::/32 Teredo (N/A) does not.
  bool refuse_as_target() const;
};

// `text` is an IPv4 dotted quad or an IPv6 literal, parsed by inet_pton (no
// brackets, no zone index, no prefix length, at most 64 bytes). Returns nullopt
// for an ordinary address, the entry for a special one, and an error (one line)
// for text that is not an address literal.
tl::expected<std::optional<SpecialAddress>, std::string> classify_special(std::string_view text);

// The same for raw bytes: 4 (IPv4) or 16 (IPv6) of them; anything else is an
// error.
tl::expected<std::optional<SpecialAddress>, std::string> classify_special_bytes(
    const std::vector<unsigned char>& bytes);

// Every row of the table, IPv4 first, in registry order. For tests and docs.
const std::vector<SpecialRange>& special_ranges();

}  // namespace danekit
