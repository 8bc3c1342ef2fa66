#include <gtest/gtest.h>

#include "net/smtp_reply.h"

namespace danekit {
namespace {

using State = SmtpReplyParser::State;

TEST(SmtpReply, MultiLineWithCrlfAndBareLf) {
  SmtpReplyParser p;
  std::string buf = "250-mx.example\r\n250-PIPELINING\n250 STARTTLS\r\nrest";
  ASSERT_EQ(p.feed(buf), State::complete);
  EXPECT_EQ(p.reply().code, 250);
  EXPECT_EQ(p.reply().lines.size(), 3u);
  EXPECT_TRUE(ehlo_has(p.reply(), "starttls"));
  EXPECT_FALSE(ehlo_has(p.reply(), "SMTPUTF8"));
  EXPECT_EQ(buf, "rest");
}

TEST(SmtpReply, NeedsMoreUntilTheLastLine) {
  SmtpReplyParser p;
  std::string buf = "220-hello\r\n220 wor";
  EXPECT_EQ(p.feed(buf), State::need_more);
  buf += "ld\r\n";
  EXPECT_EQ(p.feed(buf), State::complete);
  EXPECT_EQ(p.reply().lines[1], "world");
}

TEST(SmtpReply, HostileInputIsAnError) {
  struct Case {
    std::string input, fragment;
  };
  std::vector<Case> cases{
      {"2x0 hi\r\n", "malformed"},
      {"25\r\n", "malformed"},
      {"250x\r\n", "malformed"},
      {"650 no\r\n", "malformed"},
      {"250-a\r\n251 b\r\n", "code changed"},
      {std::string(3000, 'a'), "longer than 2048"},
      {"250 " + std::string(3000, 'a') + "\r\n", "longer than 2048"},
  };
  for (const auto& c : cases) {
    SmtpReplyParser p;
    std::string buf = c.input;
    ASSERT_EQ(p.feed(buf), State::error) << c.input.substr(0, 40);
    EXPECT_NE(p.error().find(c.fragment), std::string::npos) << p.error();
  }
}

TEST(SmtpReply, EndlessContinuationIsCapped) {
  SmtpReplyParser p;
  std::string buf;
  for (int i = 0; i < 1000; ++i) buf += "220-more\r\n";
  EXPECT_EQ(p.feed(buf), State::error);
  EXPECT_NE(p.error().find("200 lines"), std::string::npos);
}

TEST(SmtpReply, ControlBytesAreSanitised) {
  SmtpReplyParser p;
  std::string buf = std::string("220 hi\x1b[31m\x01<script>\r\n");
  ASSERT_EQ(p.feed(buf), State::complete);
  EXPECT_EQ(p.reply().lines[0], "hi?[31m?<script>");
}

}  // namespace
}  // namespace danekit
