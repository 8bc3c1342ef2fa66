// The input of `danekit scan` (and of `scan --queue --enqueue`): one mail domain
// per line.
//
// Rules, in order, for each physical line (numbered from 1, counting every line):
//  - a line longer than kMaxLineBytes (without its newline) is bad;
//  - a trailing CR is dropped (CRLF files), and everything from the first `#`
//    on is a comment; surrounding spaces and tabs are trimmed;
//  - a line with a NUL byte is bad; an empty line is skipped silently;
//  - a line with more than one field is bad; otherwise the field goes through
//    normalize_domain (U-labels become A-labels) and is bad if that refuses it.
//
// Everything is bounded: a line's memory by kMaxLineBytes, a runaway line (no
// newline within kMaxRunawayBytes, as from /dev/zero) and more than kMaxLines
// lines end the input with a fatal error, and so does a read error. A bad line
// never ends the input. Error texts are one line of printable ASCII: whatever
// the input holds is escaped before it reaches a message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace danekit::scan {

inline constexpr std::size_t kMaxLineBytes = 1024;
inline constexpr std::uint64_t kMaxRunawayBytes = 1u << 20;
inline constexpr std::uint64_t kMaxLines = 1'000'000'000;

struct InputLine {
  std::uint64_t number = 0;  // physical line number, from 1
  std::string domain;        // normalized A-label form; empty when bad
  std::string error;         // why the line is bad; empty for a domain

  bool bad() const { return !error.empty(); }
};

// Reads lines from a file descriptor it does not own. Not thread-safe.
class DomainReader {
 public:
  explicit DomainReader(int fd) : fd_(fd) {}

  // The next domain or bad line; nullopt at the end of the input; an error
  // (one line, no "danekit:" prefix) when the input cannot be read further.
  tl::expected<std::optional<InputLine>, std::string> next();

  // Lines consumed so far (including blank, comment and bad lines).
  std::uint64_t lines() const { return lines_; }
  std::uint64_t bytes() const { return bytes_; }

  // When enabled before the first next(), digest() is a SHA-256-based
  // fingerprint of every byte read (hex; stable for the same bytes).
  void enable_digest() { digest_on_ = true; }
  std::string digest();

 private:
  bool fill();  // false at EOF; sets read_error_ on failure
  void feed_digest(const char* p, std::size_t n);
  InputLine finish_line();

  int fd_;
  char buf_[65536];
  std::size_t pos_ = 0, len_ = 0;
  bool eof_ = false;
  std::string read_error_;
  std::string line_;
  bool too_long_ = false;
  std::uint64_t line_bytes_ = 0;
  std::uint64_t lines_ = 0, bytes_ = 0;
  bool digest_on_ = false;
  std::string block_, chain_;
};

// Classifies one line's text (without its newline); nullopt for a blank or
// comment line. `number` is copied into the result.
std::optional<InputLine> parse_input_line(std::string_view text, std::uint64_t number);

// Opens FILE for reading, or standard input for "-". Refuses directories.
// The error names the file and the fault.
tl::expected<int, std::string> open_input(const std::string& path);

// `text` with every byte outside printable ASCII written as \xNN, cut to `max`
// bytes: safe to put into a one-line message.
std::string printable(std::string_view text, std::size_t max = 200);

// Lower-case hex SHA-256 of `data` (input digests, options keys).
std::string sha256_hex(std::string_view data);

}  // namespace danekit::scan
