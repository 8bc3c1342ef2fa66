// TLSA records (RFC 6698, RFC 7218 names) and what RFC 7672 makes of them.
//
// A TlsaRecord is a plain value. Parsing accepts presentation text ("3 1 1 ab..")
// and wire RDATA; both reject wrong digest lengths so a malformed record is
// reported as such rather than silently never matching.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace danekit {

namespace usage {
inline constexpr std::uint8_t pkix_ta = 0, pkix_ee = 1, dane_ta = 2, dane_ee = 3;
}
namespace selector {
inline constexpr std::uint8_t cert = 0, spki = 1;
}
namespace mtype {
inline constexpr std::uint8_t full = 0, sha256 = 1, sha512 = 2;
}

struct TlsaRecord {
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t mtype = 0;
  std::vector<std::uint8_t> data;

  bool operator==(const TlsaRecord&) const = default;
};

// "3 1 1 0a1b..." (lower-case hex, no spaces).
std::string to_presentation(const TlsaRecord& r);
// "DANE-EE(3) SPKI(1) SHA2-256(1)".
std::string describe_parameters(const TlsaRecord& r);
std::string usage_name(std::uint8_t u);
std::string selector_name(std::uint8_t s);
std::string mtype_name(std::uint8_t m);

// Why a record cannot be used by an SMTP client (RFC 7672 §3.1.3), or nullopt
// when it is usable: usage DANE-TA(2) or DANE-EE(3), selector 0 or 1, matching
// type 0, 1 or 2 with data of the right length.
std::optional<std::string> unusable_reason(const TlsaRecord& r);
inline bool usable_for_smtp(const TlsaRecord& r) { return !unusable_reason(r); }

// Wire RDATA: usage, selector, mtype, data. Fails on fewer than 4 bytes.
tl::expected<TlsaRecord, std::string> parse_tlsa_wire(const std::vector<std::uint8_t>& rdata);
// Presentation form "U S M HEX..." with hex possibly split by white space, and
// RFC 7218 mnemonics (DANE-EE, SPKI, SHA2-256 ...) accepted for the numbers.
tl::expected<TlsaRecord, std::string> parse_tlsa_text(std::string_view text);

}  // namespace danekit
