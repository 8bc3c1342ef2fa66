// SMTP replies (RFC 5321 §4.2) read from a hostile peer: bounded line length,
// bounded line count, strict reply codes. Pure: bytes in, replies out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace danekit {

struct SmtpReply {
  int code = 0;
  std::vector<std::string> lines;  // text after "NNN-" / "NNN ", sanitised
};

struct SmtpLimits {
  std::size_t max_line = 2048;  // RFC 5321 §4.5.3.1.5 says 512; servers exceed it
  std::size_t max_lines = 200;  // lines in one multi-line reply
};

class SmtpReplyParser {
 public:
  explicit SmtpReplyParser(SmtpLimits limits = {}) : limits_(limits) {}

  enum class State { need_more, complete, error };
  // Consumes bytes from the front of `buffer`. On `complete` the reply is in
  // reply(); on `error`, error() says what was wrong. Lines may end in CRLF or
  // a bare LF.
  State feed(std::string& buffer);
  const SmtpReply& reply() const { return reply_; }
  const std::string& error() const { return error_; }
  void reset() {
    reply_ = {};
    error_.clear();
  }

 private:
  SmtpLimits limits_;
  SmtpReply reply_;
  std::string error_;
};

// True when an EHLO reply advertises the keyword (case-insensitive, first word).
bool ehlo_has(const SmtpReply& reply, const std::string& keyword);

}  // namespace danekit
