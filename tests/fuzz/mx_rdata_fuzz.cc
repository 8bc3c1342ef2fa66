// MX and address RDATA as libunbound hands them over.
#include <cstdint>
#include <vector>

#include "danekit/dns.h"
#include "dns/unbound/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> rd(data, data + size);
  if (auto mx = danekit::parse_mx_rdata(rd)) {
    if (mx->host.size() > 253) __builtin_trap();
  }
  (void)danekit::parse_address_rdata(danekit::rrtype::A, rd);
  (void)danekit::parse_address_rdata(danekit::rrtype::AAAA, rd);
  return 0;
}
