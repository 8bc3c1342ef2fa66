// Text from peers, certificates and argv reaches the terminal only through
// sanitize_for_display: readable UTF-8 stays, anything that can steer the
// terminal or reorder the line becomes a visible escape.
#include <gtest/gtest.h>

#include "util/hex.h"

namespace danekit {
namespace {

TEST(Display, KeepsPrintableAsciiAndUtf8) {
  EXPECT_EQ(sanitize_for_display("CN=mx.example.org,O=danekit lab"), "CN=mx.example.org,O=danekit lab");
  EXPECT_EQ(sanitize_for_display("O=Gr\xc3\xbc"
                                 "ne B\xc3\xa4ume"),
            "O=Gr\xc3\xbc"
            "ne B\xc3\xa4ume");
  EXPECT_EQ(sanitize_for_display("\xe4\xb8\xad\xe6\x96\x87"), "\xe4\xb8\xad\xe6\x96\x87");
}

TEST(Display, EscapesControlsBidiAndBadUtf8) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"a\x1b[31mred", "a\\x1b[31mred"},         // ANSI escape
      {"line\nbreak\r", "line\\x0abreak\\x0d"},  // newlines cannot forge report lines
      {"x\x7fy", "x\\x7fy"},                     // DEL
      {"\xc2\x9b"
       "31m",
       "\\u{009b}31m"},                                      // C1 CSI
      {"evil\xe2\x80\xaegro.com", "evil\\u{202e}gro.com"},   // RIGHT-TO-LEFT OVERRIDE
      {"\xe2\x81\xa6x\xe2\x81\xa9", "\\u{2066}x\\u{2069}"},  // isolates
      {"\xff\xfe", "\\xff\\xfe"},                            // not UTF-8
      {"\xc0\xaf", "\\xc0\\xaf"},                            // overlong
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},                   // surrogate
      {"\xe2\x80", "\\xe2\\x80"},                            // truncated
  };
  for (const auto& c : cases) EXPECT_EQ(sanitize_for_display(c.in), c.out) << c.in;
}

}  // namespace
}  // namespace danekit
