// RFC 8460 reports as they arrive from any sender: JSON, gzip or a whole mail
// message, decoded, parsed, summed up and written in both formats. Smaller
// limits than the command's keep a run fast; the code paths are the same.
#include <cstdint>
#include <string_view>

#include "danekit/tlsrpt_report.h"
#include "danekit/tlsrpt_summary.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  danekit::TlsrptLimits limits;
  limits.max_decoded_bytes = 1u << 20;
  limits.max_json_values = 1u << 14;
  danekit::TlsrptSummary summary;
  auto decoded = danekit::decode_tlsrpt_input(bytes, limits);
  if (decoded.decoded) {
    danekit::add_tlsrpt_report(summary, "a", danekit::parse_tlsrpt_report(decoded.decoded->json, limits));
  } else {
    danekit::add_tlsrpt_error(summary, "a", decoded.error);
  }
  // The raw bytes as JSON too, so mutations of JSON seeds reach the parser.
  danekit::add_tlsrpt_report(summary, "b", danekit::parse_tlsrpt_report(bytes, limits));
  (void)danekit::tlsrpt_summary_json(summary, "0");
  (void)danekit::tlsrpt_summary_text(summary);
  return 0;
}
