#include "scan/input_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <cstring>
#include <vector>

#include "danekit/cert.h"
#include "danekit/dns.h"
#include "danekit/tlsa.h"
#include "util/hex.h"

namespace danekit::scan {

namespace {

constexpr std::size_t kDigestBlock = 1u << 16;

bool blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::vector<std::uint8_t> in(data.begin(), data.end());
  return to_hex(tlsa_digest(mtype::sha256, in));
}

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

std::optional<InputLine> parse_input_line(std::string_view text, std::uint64_t number) {
  InputLine line;
  line.number = number;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  bool nul = text.find('\0') != std::string_view::npos;
  if (auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  if (nul) {
    line.error = "the line holds a NUL byte";
    return line;
  }
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (blank(c)) {
      line.error = fmt::format("expected one domain, found several fields: '{}'", printable(text, 80));
      return line;
    }
  }
  auto name = normalize_mail_domain(text);
  if (!name) {
    line.error = printable(name.error());
    return line;
  }
  line.domain = std::move(*name);
  return line;
}

void DomainReader::feed_digest(const char* p, std::size_t n) {
  while (n > 0) {
    std::size_t take = std::min(n, kDigestBlock - block_.size());
    block_.append(p, take);
    p += take;
    n -= take;
    if (block_.size() == kDigestBlock) {
      chain_ = sha256_hex(chain_ + block_);
      block_.clear();
    }
  }
}

std::string DomainReader::digest() { return sha256_hex(fmt::format("{}{}/{}", chain_, block_, bytes_)); }

bool DomainReader::fill() {
  if (eof_) return false;
  while (true) {
    ssize_t n = ::read(fd_, buf_, sizeof buf_);
    if (n > 0) {
      pos_ = 0;
      len_ = static_cast<std::size_t>(n);
      bytes_ += len_;
      if (digest_on_) feed_digest(buf_, len_);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    read_error_ = std::strerror(errno);
    eof_ = true;
    return false;
  }
}

InputLine DomainReader::finish_line() {
  InputLine out;
  if (too_long_) {
    out.number = lines_;
    out.error = fmt::format("the line is longer than {} bytes", kMaxLineBytes);
  } else if (auto parsed = parse_input_line(line_, lines_)) {
    out = std::move(*parsed);
  }
  line_.clear();
  too_long_ = false;
  line_bytes_ = 0;
  return out;
}

tl::expected<std::optional<InputLine>, std::string> DomainReader::next() {
  while (true) {
    if (pos_ == len_ && !fill()) {
      if (!read_error_.empty()) return tl::unexpected(fmt::format("read error: {}", read_error_));
      if (line_bytes_ == 0) return std::optional<InputLine>();
      // The last line has no newline: it is a line all the same.
      if (++lines_ > kMaxLines) return tl::unexpected(fmt::format("more than {} lines", kMaxLines));
      InputLine l = finish_line();
      if (l.number != 0) return std::optional<InputLine>(std::move(l));
      continue;
    }
    const char* start = buf_ + pos_;
    const void* nl = std::memchr(start, '\n', len_ - pos_);
    std::size_t n = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) : len_ - pos_;
    line_bytes_ += n;
    if (!too_long_) {
      if (line_.size() + n > kMaxLineBytes) {
        too_long_ = true;
        line_.clear();
      } else {
        line_.append(start, n);
      }
    }
    pos_ += n;
    if (!nl) {
      if (line_bytes_ > kMaxRunawayBytes) {
        return tl::unexpected(fmt::format("line {} has no end within {} bytes; this is not a list of domains",
                                          lines_ + 1, kMaxRunawayBytes));
      }
      continue;
    }
    ++pos_;  // the newline
    if (++lines_ > kMaxLines) return tl::unexpected(fmt::format("more than {} lines", kMaxLines));
    InputLine l = finish_line();
    if (l.number != 0) return std::optional<InputLine>(std::move(l));
  }
}

tl::expected<int, std::string> open_input(const std::string& path) {
  int fd = STDIN_FILENO;
  std::string name = path == "-" ? std::string("standard input") : fmt::format("input '{}'", printable(path));
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return tl::unexpected(fmt::format("{}: {}", name, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    std::string err = std::strerror(errno);
    if (fd != STDIN_FILENO) ::close(fd);
    return tl::unexpected(fmt::format("{}: {}", name, err));
  }
  if (S_ISDIR(st.st_mode)) {
    if (fd != STDIN_FILENO) ::close(fd);
    return tl::unexpected(fmt::format("{}: is a directory", name));
  }
  return fd;
}

}  // namespace danekit::scan
