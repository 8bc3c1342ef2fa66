// Small readers for RDATA that libunbound hands back in wire format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace danekit {

struct MxRdata {
  int preference = 0;
  std::string host;  // lower case, no trailing dot; "" for the root (null MX)
};

// RFC 1035 §3.3.9. Names inside RDATA are uncompressed in libunbound results;
// a compression pointer or a truncated label is a parse failure.
std::optional<MxRdata> parse_mx_rdata(const std::vector<std::uint8_t>& rdata);
std::optional<std::string> parse_address_rdata(std::uint16_t type, const std::vector<std::uint8_t>& rdata);

}  // namespace danekit
