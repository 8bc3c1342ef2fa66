// Small readers for what libunbound hands back in wire format: RDATA of the
// types danekit reads, and the classification of a whole result (flags plus
// reply packet) into an Answer. Pure functions on bytes, no libunbound types,
// so the fuzz targets and the unit tests reach them without a resolver.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "danekit/dns.h"

namespace danekit {

struct MxRdata {
  int preference = 0;
  std::string host;  // lower case, no trailing dot; "" for the root (null MX)
};

// RFC 1035 §3.3.9. Names inside RDATA are uncompressed in libunbound results;
// a compression pointer or a truncated label is a parse failure.
std::optional<MxRdata> parse_mx_rdata(const std::vector<std::uint8_t>& rdata);
std::optional<std::string> parse_address_rdata(std::uint16_t type, const std::vector<std::uint8_t>& rdata);

// The fields of libunbound's ub_result that decide an answer's security and
// kind, copied out of it (unbound.h documents each).
struct ResultFlags {
  int rcode = 0;          // DNS RCODE of the final answer
  bool havedata = false;  // records of the asked type exist
  bool nxdomain = false;
  bool secure = false;  // validated data or validated denial
  bool bogus = false;   // validation failed
  int ttl = 0;          // TTL of the answer RRset; negative reads as 0
  std::string why_bogus;
};

// One lookup's result as an Answer (danekit/dns.h):
// - bogus first, whatever the rcode and data (libunbound may return a bogus
//   answer with NOERROR and data present: lab-notes trap 3);
// - an rcode other than NOERROR and NXDOMAIN is a failure (SERVFAIL, REFUSED);
// - then secure or insecure, and NXDOMAIN, data (`rdata`: the records of
//   qtype at the end of any CNAME chain) or NODATA. "Data" with no records is
//   a failure: it cannot happen with libunbound, and the policy must never
//   see data without records.
// The CNAME chain (at most 16 hops) and the SOA (zone and RFC 2308 §5
// negative TTL) come from `packet`, the reply in wire format; a packet that
// does not parse gives neither. Never throws except std::bad_alloc.
Answer classify_answer(std::string_view qname, std::uint16_t qtype, const ResultFlags& flags,
                       std::span<const std::uint8_t> packet, std::vector<std::vector<std::uint8_t>> rdata);

}  // namespace danekit
