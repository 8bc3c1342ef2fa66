// DNS answers as danekit sees them: data plus the DNSSEC security state.
//
// Every answer danekit uses carries one of the four RFC 4033/7672 §2.1.1 states.
// The kind of answer (data, NODATA, NXDOMAIN) is kept apart from failures: a
// secure NXDOMAIN is a fact ("provably nothing there"), a failure means "we could
// not find out". Policy code must never read one as the other.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace danekit {

enum class Security {
  secure,         // validated data or validated denial
  insecure,       // provably unsigned
  bogus,          // validation failed
  indeterminate,  // SERVFAIL, timeout, transport or resolver error
};
std::string_view to_string(Security s);

enum class AnswerKind {
  data,      // the RRset exists
  nodata,    // the name exists, the type does not
  nxdomain,  // the name does not exist
  failure,   // no usable answer (see Answer::detail)
};
std::string_view to_string(AnswerKind k);

namespace rrtype {
inline constexpr std::uint16_t A = 1;
inline constexpr std::uint16_t CNAME = 5;
inline constexpr std::uint16_t SOA = 6;
inline constexpr std::uint16_t MX = 15;
inline constexpr std::uint16_t TXT = 16;
inline constexpr std::uint16_t AAAA = 28;
inline constexpr std::uint16_t TLSA = 52;
}  // namespace rrtype
std::string rrtype_name(std::uint16_t type);

// One validated lookup. `rdata` holds the wire-format RDATA of the records of
// the asked type found at the end of any CNAME chain.
struct Answer {
  std::string qname;  // A-label form, no trailing dot
  std::uint16_t qtype = 0;
  Security security = Security::indeterminate;
  AnswerKind kind = AnswerKind::failure;
  std::vector<std::string> cname_targets;  // qname -> [0] -> [1] ...; empty if none
  std::uint32_t ttl = 0;
  std::string detail;              // why bogus, or what failed
  std::string soa_zone;            // zone of the SOA in the reply (authority or answer), if any
  std::uint32_t negative_ttl = 0;  // min(SOA TTL, SOA MINIMUM) of that SOA (RFC 2308 §5)
  std::vector<std::vector<std::uint8_t>> rdata;
  // Set when the lookup failed for a cause on danekit's side (the resolver or
  // network this machine uses, memory), which says nothing about the domain.
  std::string local_cause;

  bool failed() const { return security == Security::bogus || security == Security::indeterminate; }
};

// Turns user input into a lower-case A-label domain name without trailing dot.
// Accepts U-labels (IDNA 2008 via libidn2). Errors are one line naming the fault.
tl::expected<std::string, std::string> normalize_domain(std::string_view input);

// normalize_domain, then the rules for a mail domain (RFC 5321 §4.1.2: labels
// of letters, digits and hyphens, so no underscore; RFC 1123 §2.1 and RFC 3696
// §2: a last label of digits only would read as an IP address).
tl::expected<std::string, std::string> normalize_mail_domain(std::string_view input);

// True for a name that is the root or a single label (a TLD): such an MX target
// cannot be a mail host (RFC 7672 keeps the usual RFC 5321 host rules).
bool is_root_or_tld(std::string_view name);

}  // namespace danekit
