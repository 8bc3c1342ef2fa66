// Certificate, key, public-key and CSR input in PEM or DER: never a crash, never
// a prompt, an error or a non-empty result.
#include <cstdint>
#include <vector>

#include "danekit/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  danekit::Bytes input(data, data + size);
  if (auto c = danekit::parse_certificates(input); c && c->empty()) __builtin_trap();
  if (auto k = danekit::parse_private_key(input); k && k->empty()) __builtin_trap();
  if (auto k = danekit::parse_public_key(input); k && k->empty()) __builtin_trap();
  if (auto k = danekit::parse_csr(input); k && k->empty()) __builtin_trap();
  return 0;
}
