// TLSA presentation text and wire RDATA: parse, print, parse again.
#include <cstdint>
#include <string>
#include <vector>

#include "danekit/tlsa.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (auto r = danekit::parse_tlsa_text(text)) {
    auto again = danekit::parse_tlsa_text(danekit::to_presentation(*r));
    if (!again || !(*again == *r)) __builtin_trap();
    (void)danekit::unusable_reason(*r);
    (void)danekit::describe_parameters(*r);
  }
  std::vector<std::uint8_t> wire(data, data + size);
  if (auto w = danekit::parse_tlsa_wire(wire)) {
    if (w->data.size() + 3 != size) __builtin_trap();
  }
  return 0;
}
