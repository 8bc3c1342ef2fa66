// TLSA record values: parsing, naming (RFC 7218) and usability (RFC 7672 §3.1.3).
#include "danekit/tlsa.h"

#include <fmt/format.h>
#include <array>
#include <cctype>
#include <charconv>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "util/hex.h"

namespace danekit {

namespace {

struct Mnemonic {
  std::uint8_t value;
  const char* name;
};
constexpr std::array<Mnemonic, 4> usages{{{0, "PKIX-TA"}, {1, "PKIX-EE"}, {2, "DANE-TA"}, {3, "DANE-EE"}}};
constexpr std::array<Mnemonic, 2> selectors{{{0, "Cert"}, {1, "SPKI"}}};
constexpr std::array<Mnemonic, 3> mtypes{{{0, "Full"}, {1, "SHA2-256"}, {2, "SHA2-512"}}};

template <std::size_t N>
std::string name_of(const std::array<Mnemonic, N>& table, std::uint8_t v) {
  for (const auto& m : table)
    if (m.value == v) return fmt::format("{}({})", m.name, v);
  return fmt::format("unassigned({})", v);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

template <std::size_t N>
tl::expected<std::uint8_t, std::string> parse_field(std::string_view token, const std::array<Mnemonic, N>& table,
                                                    const char* what) {
  for (const auto& m : table)
    if (iequals(token, m.name)) return m.value;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || ptr != token.data() + token.size() || value > 255) {
    return tl::unexpected(fmt::format("invalid TLSA {} '{}': expected 0-255 or an RFC 7218 name", what, token));
  }
  return static_cast<std::uint8_t>(value);
}

}  // namespace

std::string usage_name(std::uint8_t u) { return name_of(usages, u); }
std::string selector_name(std::uint8_t s) { return name_of(selectors, s); }
std::string mtype_name(std::uint8_t m) { return name_of(mtypes, m); }

std::string to_presentation(const TlsaRecord& r) {
  return fmt::format("{} {} {} {}", r.usage, r.selector, r.mtype, to_hex(r.data));
}

std::string describe_parameters(const TlsaRecord& r) {
  return fmt::format("{} {} {}", usage_name(r.usage), selector_name(r.selector), mtype_name(r.mtype));
}

std::string_view to_string(Unusable u) {
  switch (u) {
    case Unusable::none: return "";
    case Unusable::pkix_usage: return "pkix-usage";
    case Unusable::unknown_usage: return "unknown-usage";
    case Unusable::unknown_selector: return "unknown-selector";
    case Unusable::unknown_mtype: return "unknown-mtype";
    case Unusable::digest_length: return "digest-length";
    case Unusable::empty_data: return "empty-data";
    case Unusable::bad_certificate: return "bad-certificate";
    case Unusable::bad_public_key: return "bad-public-key";
  }
  return "";
}

namespace {

// OpenSSL's test in SSL_dane_tlsa_add(): the DER object must decode and end
// exactly where the data ends.
bool full_value_decodes(const TlsaRecord& r) {
  const unsigned char* p = r.data.data();
  auto len = static_cast<long>(r.data.size());
  bool ok = false;
  if (r.selector == selector::cert) {
    X509* x = d2i_X509(nullptr, &p, len);
    ok = x && p == r.data.data() + r.data.size();
    X509_free(x);
  } else {
    EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, len);
    ok = k && p == r.data.data() + r.data.size();
    EVP_PKEY_free(k);
  }
  ERR_clear_error();
  return ok;
}

Usability unusable(Unusable kind, std::string reason) { return Usability{kind, std::move(reason)}; }

}  // namespace

Usability record_usability(const TlsaRecord& r) {
  if (r.usage == usage::pkix_ta || r.usage == usage::pkix_ee) {
    return unusable(Unusable::pkix_usage,
                    fmt::format("usage {} is not used by SMTP clients (RFC 7672 §3.1.3)", usage_name(r.usage)));
  }
  if (r.usage != usage::dane_ta && r.usage != usage::dane_ee) {
    return unusable(Unusable::unknown_usage, fmt::format("usage {} is not defined", r.usage));
  }
  if (r.selector > selector::spki) {
    return unusable(Unusable::unknown_selector, fmt::format("selector {} is not defined", r.selector));
  }
  switch (r.mtype) {
    case mtype::full:
      if (r.data.empty()) return unusable(Unusable::empty_data, "Full(0) record with empty data");
      if (!full_value_decodes(r)) {
        return r.selector == selector::cert
                   ? unusable(Unusable::bad_certificate,
                              "Full(0) data is not a DER certificate (senders ignore it: \"unusable TLSA RR\")")
                   : unusable(Unusable::bad_public_key,
                              "Full(0) data is not a DER SubjectPublicKeyInfo (senders ignore it: \"unusable TLSA "
                              "RR\")");
      }
      break;
    case mtype::sha256:
      if (r.data.size() != 32)
        return unusable(Unusable::digest_length,
                        fmt::format("SHA2-256 data is {} bytes long, it must be 32", r.data.size()));
      break;
    case mtype::sha512:
      if (r.data.size() != 64)
        return unusable(Unusable::digest_length,
                        fmt::format("SHA2-512 data is {} bytes long, it must be 64", r.data.size()));
      break;
    default: return unusable(Unusable::unknown_mtype, fmt::format("matching type {} is not supported", r.mtype));
  }
  return {};
}

std::optional<std::string> unusable_reason(const TlsaRecord& r) {
  auto u = record_usability(r);
  if (u.usable()) return std::nullopt;
  return u.reason;
}

tl::expected<TlsaRecord, std::string> parse_tlsa_wire(const std::vector<std::uint8_t>& rdata) {
  if (rdata.size() < 4) {
    return tl::unexpected(fmt::format("TLSA RDATA is {} bytes long, at least 4 are needed", rdata.size()));
  }
  TlsaRecord r;
  r.usage = rdata[0];
  r.selector = rdata[1];
  r.mtype = rdata[2];
  r.data.assign(rdata.begin() + 3, rdata.end());
  return r;
}

tl::expected<TlsaRecord, std::string> parse_tlsa_text(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) tokens.push_back(text.substr(start, i - start));
  }
  if (tokens.size() < 4) {
    return tl::unexpected(std::string("TLSA record needs usage, selector, matching type and data"));
  }
  TlsaRecord r;
  auto u = parse_field(tokens[0], usages, "usage");
  if (!u) return tl::unexpected(u.error());
  auto s = parse_field(tokens[1], selectors, "selector");
  if (!s) return tl::unexpected(s.error());
  auto m = parse_field(tokens[2], mtypes, "matching type");
  if (!m) return tl::unexpected(m.error());
  r.usage = *u;
  r.selector = *s;
  r.mtype = *m;
  std::string hex;
  for (std::size_t t = 3; t < tokens.size(); ++t) hex += tokens[t];
  auto data = from_hex(hex);
  if (!data) return tl::unexpected(fmt::format("TLSA data is not valid hex: '{}'", hex.substr(0, 80)));
  r.data = std::move(*data);
  // RFC 1035 §3.2.1: RDLENGTH is 16 bits; three octets go to the fields.
  if (r.data.size() > 65532) {
    return tl::unexpected(fmt::format(
        "TLSA data is {} bytes long; a record holds at most 65532 (RDATA is at most 65535)", r.data.size()));
  }
  if (r.mtype == mtype::sha256 && r.data.size() != 32) {
    return tl::unexpected(fmt::format("SHA2-256 data is {} bytes long, it must be 32", r.data.size()));
  }
  if (r.mtype == mtype::sha512 && r.data.size() != 64) {
    return tl::unexpected(fmt::format("SHA2-512 data is {} bytes long, it must be 64", r.data.size()));
  }
  return r;
}

}  // namespace danekit
