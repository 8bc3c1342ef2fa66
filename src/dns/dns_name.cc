// Domain-name input: IDNA conversion and RFC 1035 length and syntax limits.
#include <idn2.h>

#include <fmt/format.h>
#include <algorithm>
#include <cctype>

#include "danekit/dns.h"

namespace danekit {

namespace {

bool ascii_only(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

tl::expected<std::string, std::string> normalize_domain(std::string_view input) {
  if (input.empty()) return tl::unexpected(std::string("empty domain name"));
  if (input.size() > 1024) return tl::unexpected(std::string("domain name is too long"));
  std::string name(input);
  if (!ascii_only(name)) {
    char* out = nullptr;
    int rc = idn2_to_ascii_8z(name.c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK) {
      return tl::unexpected(
          fmt::format("'{}' is not a valid internationalized domain name: {}", name, idn2_strerror(rc)));
    }
    name = out;
    idn2_free(out);
  }
  name = lower(name);
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  if (name == "." || name.empty()) return tl::unexpected(std::string("the root is not a mail domain"));
  // RFC 1035 §2.3.4: 255 octets on the wire, so at most 253 characters of text.
  if (name.size() > 253) {
    return tl::unexpected(fmt::format("domain name is {} characters long, the limit is 253", name.size()));
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    std::string_view label(name.data() + start, dot - start);
    if (label.empty()) return tl::unexpected(fmt::format("'{}' has an empty label", name));
    if (label.size() > 63) {
      return tl::unexpected(fmt::format("label '{}' is {} characters long, the limit is 63", label, label.size()));
    }
    for (char c : label) {
      bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      // The name as typed and the byte at fault; the front end escapes
      // control bytes when it prints the line (sanitize_for_display).
      if (!ok)
        return tl::unexpected(
            fmt::format("'{}' has an invalid character '{}' in label '{}'", input, std::string(1, c), label));
    }
    if (label.front() == '-' || label.back() == '-') {
      return tl::unexpected(fmt::format("label '{}' starts or ends with a hyphen", label));
    }
    start = dot + 1;
  }
  if (name.starts_with("xn--") || name.find(".xn--") != std::string::npos) {
    // Reject invalid A-labels the same way a U-label would be rejected.
    char* out = nullptr;
    int rc = idn2_to_unicode_8z8z(name.c_str(), &out, 0);
    if (rc != IDN2_OK) {
      return tl::unexpected(fmt::format("'{}' has an invalid A-label: {}", name, idn2_strerror(rc)));
    }
    idn2_free(out);
  }
  return name;
}

tl::expected<std::string, std::string> normalize_mail_domain(std::string_view input) {
  auto name = normalize_domain(input);
  if (!name) return name;
  if (name->find('_') != std::string::npos)
    return tl::unexpected(fmt::format("'{}' is not a mail domain: '_' is not allowed in a host name", *name));
  auto last = name->substr(name->rfind('.') == std::string::npos ? 0 : name->rfind('.') + 1);
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return tl::unexpected(fmt::format(
        "'{}' is not a mail domain: it reads as an IP address (a domain's last label is not all digits)", *name));
  return name;
}

bool is_root_or_tld(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name.empty() || name.find('.') == std::string_view::npos;
}

}  // namespace danekit
