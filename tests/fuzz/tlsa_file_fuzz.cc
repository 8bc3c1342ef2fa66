// Records files and --record text as users paste them: zone lines, RFC 3597
// generic form, comments, parentheses, odd white space.
#include <cstdint>
#include <string_view>

#include "danekit/tlsa_generate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto records = danekit::parse_tlsa_file(text))
    for (const auto& r : *records) (void)danekit::to_presentation(r);
  (void)danekit::parse_tlsa_input(text);
  return 0;
}
