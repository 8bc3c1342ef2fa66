#include "scan/jsonl_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace danekit::scan {

void JsonlWriter::add(std::string_view line) {
  std::size_t start = buffer_.size();
  buffer_.append(line);
  for (std::size_t i = start; i < buffer_.size(); ++i) {
    if (buffer_[i] == '\n' || buffer_[i] == '\r') buffer_[i] = ' ';
  }
  buffer_ += '\n';
  ++lines_;
}

tl::expected<void, std::string> JsonlWriter::flush() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    std::string err = n == 0 ? std::string("wrote nothing") : std::strerror(errno);
    if (done > 0) {
      // Take back the part of the batch that did get out: it ends at the file
      // position (also with O_APPEND), and began `done` bytes before it.
      struct stat st {};
      off_t end = ::lseek(fd_, 0, SEEK_CUR);
      off_t start = end - static_cast<off_t>(done);
      if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && end >= 0 && start >= 0 && ::ftruncate(fd_, start) == 0) {
        ::lseek(fd_, start, SEEK_SET);
      } else {
        // A pipe or terminal cannot take bytes back: say so.
        err += " (the last line written is incomplete)";
      }
    }
    return tl::unexpected(err);
  }
  offset_ += buffer_.size();
  written_ += lines_;
  buffer_.clear();
  lines_ = 0;
  return {};
}

}  // namespace danekit::scan
