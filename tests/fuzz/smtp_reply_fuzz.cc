// SMTP replies from a hostile peer: the parser must never crash, never buffer
// past its limits, and never accept a reply that breaks them.
#include <cstdint>
#include <string>

#include "net/smtp_reply.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string buf(reinterpret_cast<const char*>(data), size);
  danekit::SmtpReplyParser parser;
  while (true) {
    auto before = buf.size();
    auto st = parser.feed(buf);
    if (st != danekit::SmtpReplyParser::State::complete) break;
    const auto& r = parser.reply();
    if (r.code < 200 || r.code > 599 || r.lines.empty() || r.lines.size() > 200) __builtin_trap();
    for (const auto& l : r.lines)
      for (char c : l)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) __builtin_trap();
    (void)danekit::ehlo_has(r, "STARTTLS");
    parser.reset();
    if (buf.size() >= before) break;
  }
  return 0;
}
