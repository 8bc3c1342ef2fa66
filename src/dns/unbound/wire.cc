#include "dns/unbound/wire.h"

#include <arpa/inet.h>

#include <cctype>

#include "danekit/dns.h"

namespace danekit {

std::optional<MxRdata> parse_mx_rdata(const std::vector<std::uint8_t>& rdata) {
  if (rdata.size() < 3) return std::nullopt;
  MxRdata mx;
  mx.preference = rdata[0] << 8 | rdata[1];
  std::size_t i = 2;
  std::string name;
  while (true) {
    if (i >= rdata.size()) return std::nullopt;
    std::size_t len = rdata[i++];
    if (len == 0) break;
    if (len > 63 || i + len > rdata.size()) return std::nullopt;
    if (!name.empty()) name.push_back('.');
    // A host name's labels hold letters, digits, '-' and '_' only. Anything
    // else (a dot inside a label, \000, '?') cannot be written as a name to
    // look up without turning it into another name, so the record is
    // malformed, as Postfix's valid_hostname() judges it.
    for (std::size_t k = 0; k < len; ++k) {
      auto c = static_cast<char>(std::tolower(rdata[i + k]));
      bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      if (!ok) return std::nullopt;
      name.push_back(c);
    }
    i += len;
    if (name.size() > 253) return std::nullopt;
  }
  if (i != rdata.size()) return std::nullopt;
  mx.host = std::move(name);
  return mx;
}

std::optional<std::string> parse_address_rdata(std::uint16_t type, const std::vector<std::uint8_t>& rdata) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (type == rrtype::A && rdata.size() == 4) {
    if (!inet_ntop(AF_INET, rdata.data(), buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
  }
  if (type == rrtype::AAAA && rdata.size() == 16) {
    if (!inet_ntop(AF_INET6, rdata.data(), buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
  }
  return std::nullopt;
}

}  // namespace danekit
