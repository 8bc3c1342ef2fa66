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

// Whether an SMTP client can use a record, decided once for every path (check,
// scan, tlsa verify, rollover) by the rules a DANE sender applies: Postfix
// drops the PKIX usages (RFC 7672 §3.1.3), and OpenSSL's SSL_dane_tlsa_add()
// refuses unknown parameters, digests of the wrong length, empty data and
// Full(0) data that is not a DER certificate (selector 0) or
// SubjectPublicKeyInfo (selector 1) consumed to its last byte. Postfix logs
// those as "unusable TLSA RR".
enum class Unusable {
  none,              // usable
  pkix_usage,        // PKIX-TA(0) / PKIX-EE(1): not used by SMTP clients
  unknown_usage,     // usage 4..255
  unknown_selector,  // selector 2..255
  unknown_mtype,     // matching type 3..255
  digest_length,     // SHA2-256 data not 32 bytes, SHA2-512 not 64
  empty_data,        // Full(0) with no data
  bad_certificate,   // Cert(0) Full(0) data is not one DER certificate
  bad_public_key,    // SPKI(1) Full(0) data is not one DER SubjectPublicKeyInfo
};
// Stable names for JSON ("pkix-usage", "bad-certificate", ...); "" for none.
std::string_view to_string(Unusable u);

struct Usability {
  Unusable kind = Unusable::none;
  std::string reason;  // one line for a human; empty when usable
  bool usable() const { return kind == Unusable::none; }
};
Usability record_usability(const TlsaRecord& r);

// The reason of record_usability(), or nullopt when the record is usable.
std::optional<std::string> unusable_reason(const TlsaRecord& r);
inline bool usable_for_smtp(const TlsaRecord& r) { return record_usability(r).usable(); }

// Wire RDATA: usage, selector, mtype, data. Fails on fewer than 4 bytes.
tl::expected<TlsaRecord, std::string> parse_tlsa_wire(const std::vector<std::uint8_t>& rdata);
// Presentation form "U S M HEX..." with hex possibly split by white space, and
// RFC 7218 mnemonics (DANE-EE, SPKI, SHA2-256 ...) accepted for the numbers.
tl::expected<TlsaRecord, std::string> parse_tlsa_text(std::string_view text);

}  // namespace danekit
