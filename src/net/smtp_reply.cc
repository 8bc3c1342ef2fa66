#include "net/smtp_reply.h"

#include <fmt/format.h>
#include <cctype>

#include "util/hex.h"

namespace danekit {

SmtpReplyParser::State SmtpReplyParser::feed(std::string& buffer) {
  while (true) {
    auto nl = buffer.find('\n');
    if (nl == std::string::npos) {
      if (buffer.size() > limits_.max_line) {
        error_ = fmt::format("reply line longer than {} bytes", limits_.max_line);
        return State::error;
      }
      return State::need_more;
    }
    std::string line = buffer.substr(0, nl);
    buffer.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > limits_.max_line) {
      error_ = fmt::format("reply line longer than {} bytes", limits_.max_line);
      return State::error;
    }
    bool digits = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
                  std::isdigit(static_cast<unsigned char>(line[1])) &&
                  std::isdigit(static_cast<unsigned char>(line[2]));
    char sep = line.size() > 3 ? line[3] : ' ';
    if (!digits || line[0] < '2' || line[0] > '5' || (sep != ' ' && sep != '-')) {
      error_ = fmt::format("malformed reply line '{}'", sanitize_peer_text(line, 80));
      return State::error;
    }
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (!reply_.lines.empty() && code != reply_.code) {
      error_ = fmt::format("reply code changed from {} to {} within one reply", reply_.code, code);
      return State::error;
    }
    reply_.code = code;
    reply_.lines.push_back(sanitize_peer_text(line.size() > 4 ? std::string_view(line).substr(4) : "", 512));
    if (sep == ' ') return State::complete;
    if (reply_.lines.size() >= limits_.max_lines) {
      error_ = fmt::format("multi-line reply longer than {} lines", limits_.max_lines);
      return State::error;
    }
  }
}

bool ehlo_has(const SmtpReply& reply, const std::string& keyword) {
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    const auto& l = reply.lines[i];
    auto end = l.find(' ');
    std::string word = l.substr(0, end);
    if (word.size() != keyword.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < word.size(); ++k)
      if (std::toupper(static_cast<unsigned char>(word[k])) != std::toupper(static_cast<unsigned char>(keyword[k])))
        same = false;
    if (same) return true;
  }
  return false;
}

}  // namespace danekit
