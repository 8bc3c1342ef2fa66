// From the bytes of a file as it arrived to the JSON text of an RFC 8460
// report: plain JSON, gzip (§5.2), or a mail message carrying the report
// (§5.3). zlib is used only here. Every step is bounded by TlsrptLimits.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <vector>

#include "danekit/tlsrpt_report.h"

namespace danekit {

std::string_view to_string(TlsrptEncoding e) {
  switch (e) {
    case TlsrptEncoding::json: return "json";
    case TlsrptEncoding::gzip: return "gzip";
    case TlsrptEncoding::mail_gzip: return "mail-gzip";
    case TlsrptEncoding::mail_json: return "mail-json";
  }
  return "json";
}

namespace {

struct Failure {
  std::string error;
};

std::string mib(std::size_t bytes) {
  if (bytes % (1u << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  return fmt::format("{} bytes", bytes);
}

bool is_gzip(std::string_view b) {
  return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f && static_cast<unsigned char>(b[1]) == 0x8b;
}

// gunzip with a ceiling on the output. Concatenated gzip members (RFC 1952
// §2.2 allows them) are read one after the other.
std::optional<std::string> gunzip(std::string_view in, std::size_t max_out, std::string& error) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) {
    error = "zlib could not start";
    return std::nullopt;
  }
  // Output in chunks joined once at the end: no doubling reallocations on the
  // way to the limit (a bomb never costs more than the limit itself).
  std::vector<std::string> chunks;
  std::size_t total = 0;
  std::array<unsigned char, 65536> buf{};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());  // in.size() is bounded by max_input_bytes
  int rc = Z_OK;
  for (;;) {
    z.next_out = buf.data();
    z.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&z, Z_NO_FLUSH);
    std::size_t got = buf.size() - z.avail_out;
    if (total + got > max_out) {
      inflateEnd(&z);
      error = fmt::format("decompressed size is over {} (a gzip bomb?)", mib(max_out));
      return std::nullopt;
    }
    if (got) chunks.emplace_back(reinterpret_cast<const char*>(buf.data()), got);
    total += got;
    if (rc == Z_STREAM_END) {
      // Another member follows; other bytes after the last member are ignored
      // (gzip(1) does the same, with a warning).
      std::string_view rest(reinterpret_cast<const char*>(z.next_in), z.avail_in);
      if (is_gzip(rest) && inflateReset(&z) == Z_OK) continue;
      break;
    }
    // With fresh output space, "no progress possible" means the input ran out.
    if (rc == Z_BUF_ERROR) {
      inflateEnd(&z);
      error = "gzip data is truncated";
      return std::nullopt;
    }
    if (rc != Z_OK) {
      inflateEnd(&z);
      error = fmt::format("gzip data is corrupt ({})", z.msg ? z.msg : "zlib error");
      return std::nullopt;
    }
  }
  inflateEnd(&z);
  std::string out;
  out.reserve(total);
  for (const auto& c : chunks) out += c;
  return out;
}

// RFC 4648 base64 as mail carries it (RFC 2045 §6.8): line breaks and white
// space are skipped and decoding stops at the first '='. Any other character
// outside the alphabet makes the part invalid: RFC 2045 would skip it, but in
// a report part it means the part was damaged on its way.
std::optional<std::string> base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = value(c);
    if (v < 0) {
      if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// A MIME entity: its headers (names lower case, folded lines joined) and body.
struct Entity {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (n == name) return v;
    return {};
  }
};

// Far more than any report mail carries; bounds the memory a hostile part takes.
constexpr std::size_t kMaxHeaderFields = 500;

// RFC 5322 §2.2: header fields up to the first empty line; a line starting
// with white space continues the one before. Lines end in CRLF or LF.
std::optional<Entity> split_entity(std::string_view text) {
  Entity e;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      e.body = text.substr(pos);
      return e;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (e.headers.empty()) return std::nullopt;
      e.headers.back().second += " ";
      e.headers.back().second += trim(line);
      continue;
    }
    if (e.headers.empty() && line.starts_with("From ")) continue;  // an mbox separator line
    if (e.headers.size() >= kMaxHeaderFields) return std::nullopt;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    auto name = line.substr(0, colon);
    if (std::any_of(name.begin(), name.end(), [](char c) { return c <= ' ' || c > '~'; })) return std::nullopt;
    e.headers.emplace_back(lower(name), std::string(trim(line.substr(colon + 1))));
  }
  return std::nullopt;  // no body: not a message
}

// The media type of a Content-Type value ("multipart/report") and one of its
// parameters (RFC 2045 §5.1), quoted or not.
std::string media_type(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}
std::string media_parameter(std::string_view content_type, std::string_view name) {
  std::size_t pos = content_type.find(';');
  while (pos != std::string_view::npos) {
    std::size_t start = pos + 1;
    std::size_t eq = content_type.find('=', start);
    if (eq == std::string_view::npos) return {};
    std::string key = lower(trim(content_type.substr(start, eq - start)));
    std::size_t v = eq + 1;
    while (v < content_type.size() && (content_type[v] == ' ' || content_type[v] == '\t')) ++v;
    std::string value;
    if (v < content_type.size() && content_type[v] == '"') {
      std::size_t close = content_type.find('"', v + 1);
      if (close == std::string_view::npos) return {};
      value = std::string(content_type.substr(v + 1, close - v - 1));
      pos = content_type.find(';', close);
    } else {
      std::size_t end = content_type.find(';', v);
      value = std::string(trim(content_type.substr(v, end == std::string_view::npos ? end : end - v)));
      pos = end;
    }
    if (key == name) return value;
  }
  return {};
}

// The body parts of a multipart body (RFC 2046 §5.1.1): between lines
// "--boundary", up to "--boundary--".
std::vector<std::string_view> split_parts(std::string_view body, std::string_view boundary, std::size_t max_parts) {
  std::vector<std::string_view> parts;
  std::string delimiter = "--" + std::string(boundary);
  std::size_t pos = 0;
  std::optional<std::size_t> part_start;
  while (pos <= body.size()) {
    std::size_t nl = body.find('\n', pos);
    std::string_view line = body.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    std::size_t next = nl == std::string_view::npos ? body.size() + 1 : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view t = trim(line);
    if (t.starts_with(delimiter)) {
      bool close = t.substr(delimiter.size()).starts_with("--");
      if (part_start) {
        std::size_t end = pos;  // the line break before the delimiter belongs to it
        if (end > *part_start && body[end - 1] == '\n') --end;
        if (end > *part_start && body[end - 1] == '\r') --end;
        parts.push_back(body.substr(*part_start, end - *part_start));
        if (parts.size() >= max_parts) return parts;
      }
      if (close) return parts;
      part_start = next;
    }
    pos = next;
  }
  // No close delimiter (a message cut short): the last part runs to the end.
  if (part_start && *part_start < body.size() && parts.size() < max_parts) parts.push_back(body.substr(*part_start));
  return parts;
}

struct Found {
  std::string payload;
  bool gzip = false;
};

struct Walk {
  const TlsrptLimits& limits;
  std::size_t parts_seen = 0;
  std::string error;  // set when a limit stopped the walk or a part could not be decoded
};

// Depth-first search for the first application/tlsrpt+gzip or
// application/tlsrpt+json entity.
std::optional<Found> find_report(Walk& w, const Entity& e, int depth) {
  if (++w.parts_seen > w.limits.max_mime_parts) {
    w.error = fmt::format("the mail message has more than {} MIME parts", w.limits.max_mime_parts);
    return std::nullopt;
  }
  std::string content_type = e.header("content-type");
  std::string type = media_type(content_type);
  if (type.starts_with("multipart/")) {
    if (depth >= w.limits.max_mime_depth) {
      w.error = fmt::format("the mail message nests multiparts more than {} deep", w.limits.max_mime_depth);
      return std::nullopt;
    }
    std::string boundary = media_parameter(content_type, "boundary");
    if (boundary.empty()) {
      w.error = fmt::format("a {} part has no boundary", type);
      return std::nullopt;
    }
    for (auto part : split_parts(e.body, boundary, w.limits.max_mime_parts)) {
      auto sub = split_entity(part);
      if (!sub) {
        // A part that starts with its body (no headers) is text/plain (RFC 2046 §5.1.1).
        continue;
      }
      if (auto found = find_report(w, *sub, depth + 1)) return found;
      if (!w.error.empty()) return std::nullopt;
    }
    return std::nullopt;
  }
  bool gzip = type == "application/tlsrpt+gzip";
  if (!gzip && type != "application/tlsrpt+json") return std::nullopt;
  std::string cte = lower(trim(e.header("content-transfer-encoding")));
  Found f{.payload = {}, .gzip = gzip};
  if (cte == "base64") {
    auto decoded = base64_decode(e.body);
    if (!decoded) {
      w.error = fmt::format("the {} part is not valid base64", type);
      return std::nullopt;
    }
    f.payload = std::move(*decoded);
  } else if (cte.empty() || cte == "7bit" || cte == "8bit" || cte == "binary") {
    f.payload = std::string(e.body);
  } else {
    w.error = fmt::format("the {} part has Content-Transfer-Encoding '{}', not base64", type, cte.substr(0, 40));
    return std::nullopt;
  }
  return f;
}

bool looks_like_json(std::string_view b) {
  if (b.starts_with("\xef\xbb\xbf")) b.remove_prefix(3);
  b = trim(b);
  return !b.empty() && (b.front() == '{' || b.front() == '[');
}

}  // namespace

TlsrptDecodeResult decode_tlsrpt_input(std::string_view bytes, const TlsrptLimits& limits) {
  TlsrptDecodeResult r;
  if (bytes.size() > limits.max_input_bytes) {
    r.error = fmt::format("larger than {}", mib(limits.max_input_bytes));
    return r;
  }
  if (bytes.empty()) {
    r.error = "empty";
    return r;
  }
  if (is_gzip(bytes)) {
    auto json = gunzip(bytes, limits.max_decoded_bytes, r.error);
    if (json) r.decoded = TlsrptDecoded{.json = std::move(*json), .encoding = TlsrptEncoding::gzip};
    return r;
  }
  if (looks_like_json(bytes)) {
    r.decoded = TlsrptDecoded{.json = std::string(bytes), .encoding = TlsrptEncoding::json};
    return r;
  }
  auto message = split_entity(bytes);
  if (!message || message->header("content-type").empty()) {
    r.error = "neither JSON, gzip nor a mail message";
    return r;
  }
  Walk w{.limits = limits, .parts_seen = 0, .error = {}};
  auto found = find_report(w, *message, 0);
  if (!found) {
    r.error =
        w.error.empty() ? "no application/tlsrpt+gzip or application/tlsrpt+json part in the mail message" : w.error;
    return r;
  }
  if (found->gzip) {
    if (!is_gzip(found->payload)) {
      r.error = "the application/tlsrpt+gzip part is not gzip data";
      return r;
    }
    auto json = gunzip(found->payload, limits.max_decoded_bytes, r.error);
    if (json) r.decoded = TlsrptDecoded{.json = std::move(*json), .encoding = TlsrptEncoding::mail_gzip};
    return r;
  }
  r.decoded = TlsrptDecoded{.json = std::move(found->payload), .encoding = TlsrptEncoding::mail_json};
  return r;
}

}  // namespace danekit
