// --trust-anchor files: zone-file text in, DS and DNSKEY records or one line
// naming the fault out.
#include <cstdint>
#include <span>

#include "dns/ldns/zone_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto anchors = danekit::parse_trust_anchors(std::span<const std::uint8_t>(data, size), "ta.key");
  if (!anchors) {
    const auto& e = anchors.error();
    if (e.empty() || e.find('\n') != std::string::npos) __builtin_trap();
    return 0;
  }
  if (anchors->empty() || anchors->size() > danekit::max_zone_file_records) __builtin_trap();
  for (const auto& r : *anchors) {
    if (r.type != 43 && r.type != 48) __builtin_trap();  // DS, DNSKEY
    if (r.text.empty() || r.text.find('\n') != std::string::npos) __builtin_trap();
  }
  return 0;
}
