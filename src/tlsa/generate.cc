// Making TLSA records (RFC 6698 §2, RFC 7671, RFC 7672 §3.1) and printing them in
// zone and RFC 3597 generic form (JSON: src/report/tlsa_json.cc). Pure: no files,
// no network.
#include <fmt/format.h>

#include <cctype>

#include "danekit/dns.h"
#include "danekit/tlsa_generate.h"
#include "util/hex.h"

namespace danekit {

namespace {

// "DANE-EE(3)" -> "DANE-EE"; the tables live in tlsa.cc, this reuses them.
std::string bare_name(const std::string& named) { return named.substr(0, named.find('(')); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

tl::expected<std::uint8_t, std::string> parse_named(std::string_view text, std::string (*name_of)(std::uint8_t),
                                                    unsigned defined, const char* what, const char* names) {
  for (unsigned v = 0; v < defined; ++v) {
    auto n = static_cast<std::uint8_t>(v);
    if (iequals(text, bare_name(name_of(n)))) return n;
  }
  bool digits = !text.empty() && text.size() <= 3;
  for (char c : text) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) {
    unsigned v = static_cast<unsigned>(std::stoul(std::string(text)));
    if (v < defined) return static_cast<std::uint8_t>(v);
  }
  return tl::unexpected(fmt::format("unknown {} '{}': expected {}", what, text, names));
}

}  // namespace

tl::expected<std::uint8_t, std::string> parse_usage(std::string_view text) {
  return parse_named(text, usage_name, 4, "usage", "0-3 or PKIX-TA, PKIX-EE, DANE-TA, DANE-EE");
}
tl::expected<std::uint8_t, std::string> parse_selector(std::string_view text) {
  return parse_named(text, selector_name, 2, "selector", "0-1 or Cert, SPKI");
}
tl::expected<std::uint8_t, std::string> parse_mtype(std::string_view text) {
  return parse_named(text, mtype_name, 3, "matching type", "0-2 or Full, SHA2-256, SHA2-512");
}

tl::expected<Generated, std::string> generate_tlsa(const KeySource& source, const GenerateParams& p) {
  if (p.usage > usage::dane_ee) return tl::unexpected(fmt::format("usage {} is not defined", p.usage));
  if (p.selector > selector::spki) return tl::unexpected(fmt::format("selector {} is not defined", p.selector));
  if (p.mtype > mtype::sha512) return tl::unexpected(fmt::format("matching type {} is not defined", p.mtype));
  bool ee = p.usage == usage::dane_ee || p.usage == usage::pkix_ee;
  // RFC 7672 §3.1.1-2: an end-entity usage names the server's own certificate,
  // a trust-anchor usage one of its issuers. The other pairing never matches.
  if (ee && p.depth > 0)
    return tl::unexpected(
        fmt::format("usage {} names the server's own certificate, not depth {}: use usage 2 "
                    "(DANE-TA) for an issuer",
                    usage_name(p.usage), p.depth));
  if (!ee && p.depth == 0)
    return tl::unexpected(
        fmt::format("usage {} names an issuer, not the server's own certificate: use --depth 1 "
                    "(or --ta) for the issuer, or usage 3 (DANE-EE) for the server",
                    usage_name(p.usage)));
  if (p.selector == selector::cert && !source.has_certificate())
    return tl::unexpected(
        fmt::format("selector 0 (Cert) needs a certificate, and {} has only a public key: use "
                    "selector 1 (SPKI)",
                    source.name));
  if (p.depth > 0 && source.chain.size() <= p.depth) {
    if (!source.has_certificate())
      return tl::unexpected(
          fmt::format("--depth {} needs a certificate chain, and {} has only a public key", p.depth, source.name));
    return tl::unexpected(fmt::format("--depth {} needs a chain of at least {} certificates, {} has {}", p.depth,
                                      p.depth + 1, source.name, source.chain.size()));
  }

  Generated out;
  out.record.usage = p.usage;
  out.record.selector = p.selector;
  out.record.mtype = p.mtype;
  if (source.has_certificate()) {
    out.record.data = tlsa_association(source.chain[p.depth], p.selector, p.mtype);
  } else {
    out.record.data = tlsa_digest(p.mtype, source.spki);
  }
  if (out.record.data.empty()) return tl::unexpected(std::string("the digest could not be computed"));

  if (p.usage == usage::pkix_ta || p.usage == usage::pkix_ee)
    out.warnings.push_back(
        fmt::format("usage {} is ignored by SMTP senders (RFC 7672 §3.1.3): publish usage {} "
                    "instead",
                    usage_name(p.usage), ee ? 3 : 2));
  if (p.selector == selector::cert && p.depth == 0)
    out.warnings.push_back(
        "selector 0 (Cert) for the server's own certificate changes with every renewal, even with the same key "
        "(an auto-renewing CA renews every few weeks): prefer selector 1 (SPKI) and keep the key across renewals");
  if (p.mtype == mtype::full)
    out.warnings.push_back(
        fmt::format("matching type Full(0) puts the whole {} ({} bytes) into DNS: prefer "
                    "SHA2-256(1)",
                    p.selector == selector::cert ? "certificate" : "public key", out.record.data.size()));
  return out;
}

tl::expected<std::string, std::string> tlsa_owner(std::string_view host, std::uint16_t port) {
  auto name = normalize_domain(host);
  if (!name) return tl::unexpected(name.error());
  return fmt::format("_{}._tcp.{}.", port, *name);
}

std::string format_record(const TlsaRecord& r, const std::string& owner, std::optional<std::uint32_t> ttl,
                          RecordFormat format) {
  std::string rdata;
  if (format == RecordFormat::generic) {
    std::vector<std::uint8_t> wire{r.usage, r.selector, r.mtype};
    wire.insert(wire.end(), r.data.begin(), r.data.end());
    rdata = fmt::format("\\# {} {}", wire.size(), to_hex(wire));
  } else {
    rdata = to_presentation(r);
  }
  if (owner.empty()) return rdata;
  std::string ttl_text = ttl ? fmt::format("{} ", *ttl) : "";
  return fmt::format("{} {}IN {} {}", owner, ttl_text, format == RecordFormat::generic ? "TYPE52" : "TLSA", rdata);
}

}  // namespace danekit
