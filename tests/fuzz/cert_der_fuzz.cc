// Certificate DER from a peer: parsing and the TLSA digests of whatever parses.
#include <cstdint>
#include <vector>

#include "danekit/cert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> der(data, data + size);
  if (auto c = danekit::parse_certificate_der(der)) {
    for (std::uint8_t s = 0; s <= 1; ++s)
      for (std::uint8_t m = 0; m <= 2; ++m) (void)danekit::tlsa_association(*c, s, m);
  }
  return 0;
}
