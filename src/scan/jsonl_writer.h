// Writes JSON Lines so that a reader never sees a torn line: lines are
// buffered whole and go out in one write(2) per batch (a short write is
// continued at once). After a failed write a regular file is cut back to the
// end of the last whole line, so what was written before stays intact and
// nothing half-written remains. Used by `danekit scan` for its output and by
// `scan --queue --export`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace danekit::scan {

class JsonlWriter {
 public:
  // `fd` is not owned; `offset` is where the file's whole lines end now (its
  // size for a regular file opened for appending at that point).
  explicit JsonlWriter(int fd, std::uint64_t offset = 0) : fd_(fd), offset_(offset) {}

  // Queues one line; `line` must not hold a newline (one is replaced by a
  // space, so the framing can never break). The newline is added here.
  void add(std::string_view line);

  std::size_t buffered_bytes() const { return buffer_.size(); }
  std::size_t buffered_lines() const { return lines_; }

  // Writes every queued line. On failure nothing of this batch is kept (for a
  // regular file), the batch stays queued, and the error is one line
  // ("No space left on device").
  tl::expected<void, std::string> flush();

  std::uint64_t offset() const { return offset_; }    // bytes of whole lines written
  std::uint64_t written() const { return written_; }  // lines written by this writer

 private:
  int fd_;
  std::uint64_t offset_;
  std::uint64_t written_ = 0;
  std::string buffer_;
  std::size_t lines_ = 0;
};

}  // namespace danekit::scan
