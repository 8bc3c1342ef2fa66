// The zone-file-format files a user points danekit at: --trust-anchor (DS or
// DNSKEY records for the root of their choice) and --root-hints (NS records
// and their addresses). Pure functions on the file's bytes, so the fuzz
// targets (trust_anchor, root_hints) reach exactly what a user's file reaches;
// the resolver reads the file with read_file_bytes (bounded) and calls them.
//
// Every error is one line that names the file (`path` is only used in the
// message) and the fault: "trust anchor file 'ta.key' line 3: Syntax error,
// could not parse the RR's rdata". Parsing ends on the first error, at the
// end of the bytes, or when a record could not be read without progress; a
// NUL byte, an empty file, $INCLUDE and more than max_zone_file_records
// records are errors.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace danekit {

inline constexpr std::size_t max_zone_file_records = 10000;

// One record, in presentation format as ldns prints it.
struct ZoneRecord {
  std::string owner;  // fully qualified, trailing dot
  std::uint16_t type = 0;
  std::vector<std::string> rdata;  // one string per RDATA field
  std::string text;                // the whole record on one line
};

// Any records; `what` names the kind of file ("trust anchor", "root hints").
tl::expected<std::vector<ZoneRecord>, std::string> parse_zone_records(std::span<const std::uint8_t> bytes,
                                                                      std::string_view what, std::string_view path);

// The DS and DNSKEY records of a trust anchor file, other types skipped. A DS
// whose digest length does not fit its digest type (RFC 4509 §2.2, RFC 6605
// §2) can never match a key and is an error, as is a file without DS or
// DNSKEY records.
tl::expected<std::vector<ZoneRecord>, std::string> parse_trust_anchors(std::span<const std::uint8_t> bytes,
                                                                       std::string_view path);

// A root hints file: at least one NS record and one A or AAAA address.
struct RootHints {
  std::size_t ns = 0;
  std::vector<std::string> addresses;  // the A and AAAA RDATA, as printed
};
tl::expected<RootHints, std::string> parse_root_hints(std::span<const std::uint8_t> bytes, std::string_view path);

}  // namespace danekit
