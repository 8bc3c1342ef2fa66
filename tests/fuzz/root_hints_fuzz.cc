// --root-hints files: zone-file text in, NS records and addresses or one line
// naming the fault out.
#include <cstdint>
#include <span>

#include "dns/ldns/zone_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto hints = danekit::parse_root_hints(std::span<const std::uint8_t>(data, size), "root.hints");
  if (!hints) {
    const auto& e = hints.error();
    if (e.empty() || e.find('\n') != std::string::npos) __builtin_trap();
    return 0;
  }
  if (hints->ns == 0 || hints->addresses.empty()) __builtin_trap();
  if (hints->ns + hints->addresses.size() > danekit::max_zone_file_records) __builtin_trap();
  return 0;
}
