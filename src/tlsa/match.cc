// Per-record explanations (RFC 7672 §3.1, RFC 7671 §5 and §9). The authentication
// result itself comes from OpenSSL; this code says why, record by record.
// explain_records() reconciles the digest comparison with OpenSSL's answer for
// each record alone, so the explanation never contradicts the verdict.
#include "danekit/match.h"

#include <fmt/format.h>
#include <algorithm>
#include <map>

#include "danekit/authenticate.h"
#include "danekit/tlsa_generate.h"
#include "util/hex.h"

namespace danekit {

namespace {

// Digests of empty input: a record with one of these was made from an empty file.
constexpr std::string_view sha256_empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view sha512_empty =
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

// RFC 7671 §9 ordering of digest matching types; Full(0) is not a digest and
// takes no part in agility.
int digest_rank(std::uint8_t m) { return m == mtype::sha512 ? 2 : m == mtype::sha256 ? 1 : 0; }

bool depth_allowed(std::uint8_t u, std::size_t depth) {
  // DANE-EE names the leaf only (§3.1.1); DANE-TA names an issuer (§3.1.2).
  if (u == usage::dane_ee || u == usage::pkix_ee) return depth == 0;
  return depth >= 1;
}

std::size_t hex_distance(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return SIZE_MAX;
  std::size_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += a[i] != b[i];
  return d;
}

std::string near_miss(const TlsaRecord& r, const std::vector<ServedChain>& chains) {
  auto hex = to_hex(r.data);
  if (r.mtype == mtype::sha256 && hex == sha256_empty)
    return "the data is the SHA2-256 digest of empty input: the record was made from an empty file";
  if (r.mtype == mtype::sha512 && hex == sha512_empty)
    return "the data is the SHA2-512 digest of empty input: the record was made from an empty file";
  for (const auto& served : chains) {
    for (std::size_t d = 0; d < served.chain.size(); ++d) {
      const auto& cert = served.chain[d];
      for (std::uint8_t sel = 0; sel <= 1; ++sel) {
        for (std::uint8_t mt = 0; mt <= 2; ++mt) {
          if (tlsa_association(cert, sel, mt) != r.data) continue;
          bool same_params = sel == r.selector && mt == r.mtype;
          if (same_params && !depth_allowed(r.usage, d)) {
            if (d == 0)
              return fmt::format("this is the server's own (leaf) {}: did you mean {} {} {}?",
                                 sel ? "key" : "certificate", usage::dane_ee, sel, mt);
            return fmt::format("this is the {} of the issuer at depth {} ({}): did you mean {} {} {}?",
                               sel ? "key" : "certificate", d, cert.subject, usage::dane_ta, sel, mt);
          }
          if (!same_params) {
            std::uint8_t u = d == 0 ? usage::dane_ee : usage::dane_ta;
            return fmt::format("the data matches the {} at depth {} as {} {}: did you mean {} {} {}?",
                               sel ? "key" : "certificate", d, selector_name(sel), mtype_name(mt), u, sel, mt);
          }
        }
      }
      // A few hex digits off the served value: a typo or a truncated copy.
      auto want = to_hex(tlsa_association(cert, r.selector, r.mtype));
      auto dist = hex_distance(hex, want);
      if (dist > 0 && dist <= 4)
        return fmt::format("{} hex digit{} off the {} at depth {} served by {}: a copy error?", dist,
                           dist == 1 ? "" : "s", r.selector ? "key" : "certificate", d, served.address);
    }
  }
  return {};
}

bool has_certificate(const ServedChain& c) { return !c.chain.empty() && !c.chain.front().der.empty(); }

// Why OpenSSL's SSL_dane_tlsa_add() refuses a record danekit's own rules call
// usable: Full(0) data must decode as what the selector names.
std::string rejected_by_openssl(const TlsaRecord& r) {
  if (r.mtype == mtype::full)
    return fmt::format("OpenSSL cannot use it: Full(0) data must be a DER {}, and this is not one",
                       r.selector == selector::cert ? "certificate" : "SubjectPublicKeyInfo");
  return "OpenSSL cannot use it (SSL_dane_tlsa_add refused the record)";
}

// The note for a record OpenSSL verified but whose digest matches nothing in the
// chain as sent: its trust anchor is not in the chain. A DANE-TA(2) SPKI(1)
// Full(0) key is matched by the signature it makes on a certificate of the
// chain (OpenSSL reports that certificate's depth); a DANE-TA(2) Cert(0)
// Full(0) certificate completes the chain above its top.
std::string anchor_outside_chain(const TlsaRecord& r, const ServedChain& c, int depth) {
  auto subject = [](const CertInfo& cert) { return cert.subject.empty() ? "" : fmt::format(" ({})", cert.subject); };
  auto size = static_cast<int>(c.chain.size());
  if (depth >= 0 && depth < size && r.selector == selector::spki && r.mtype == mtype::full &&
      c.chain[depth].spki_der != r.data)
    return fmt::format(
        "its trust anchor is not in the chain {} sends: OpenSSL verified the signature of the certificate at depth "
        "{} with the record's key",
        c.address, depth);
  if (depth >= size)
    return fmt::format(
        "its trust anchor is not in the chain {} sends: OpenSSL completed the chain with the record's certificate "
        "at depth {}, the issuer of the top certificate{}",
        c.address, depth, subject(c.chain.back()));
  return fmt::format("OpenSSL matched it at depth {} in {}", depth, c.address);
}

std::string rejection_note(const TlsaRecord& r, const RecordMatch& m, const ServedChain& c, const Authentication& a,
                           const DaneContext& ctx) {
  std::string kind = r.selector == selector::cert ? "certificate" : "key";
  std::string why = a.verify_error.empty() ? a.detail : a.verify_error;
  if (a.outcome == Outcome::name_mismatch) {
    std::string names = ctx.base;
    for (const auto& n : ctx.extra_names) names += (names.empty() ? "" : ", ") + n;
    why += fmt::format(": the leaf certificate names none of {} (RFC 7672 §3.2.2)", names);
  } else if (a.outcome == Outcome::expired) {
    why += " (a DANE-TA(2) chain is checked for dates, RFC 7672 §3.1.2)";
  }
  const auto* cert = m.depth < static_cast<int>(c.chain.size()) ? &c.chain[m.depth] : nullptr;
  std::string subject = cert && !cert->subject.empty() ? fmt::format(" ({})", cert->subject) : "";
  return fmt::format("it matches the {} at depth {}{} in {}, but OpenSSL rejects the chain: {}", kind, m.depth, subject,
                     c.address, why);
}

}  // namespace

std::vector<TlsaRecord> records_for_openssl(const std::vector<TlsaRecord>& records) {
  std::vector<TlsaRecord> out;
  for (const auto& r : records)
    if (usable_for_smtp(r) && authenticate({}, {r}, "", {}, 1).accepted > 0) out.push_back(r);
  return out;
}

std::vector<RecordFinding> explain_records(const std::vector<TlsaRecord>& records,
                                           const std::vector<ServedChain>& chains, const DaneContext& context) {
  // authenticate() reads the clock when given 0; pure callers never want that.
  DaneContext ctx = context;
  if (ctx.at <= 0) ctx.at = 1;
  auto out = analyze_records(records, chains);
  for (auto& f : out) {
    // PKIX usages and malformed records keep danekit's reason: a sender never
    // hands them to OpenSSL (RFC 7672 §3.1.3).
    if (f.unusable) continue;
    const auto& r = f.record;
    if (authenticate({}, {r}, "", {}, ctx.at).accepted == 0) {
      // record_usability() applies OpenSSL's rules, so this is a safety net.
      set_usability(f, Usability{r.mtype == mtype::full ? (r.selector == selector::cert ? Unusable::bad_certificate
                                                                                        : Unusable::bad_public_key)
                                                        : Unusable::unknown_mtype,
                                 rejected_by_openssl(r)});
      f.matches.clear();
      f.note.clear();
      continue;
    }
    std::vector<RecordMatch> matches;
    std::string rejected, outside;
    for (const auto& c : chains) {
      std::vector<RecordMatch> digest;
      for (const auto& m : f.matches)
        if (m.address == c.address) digest.push_back(m);
      if (!has_certificate(c)) {  // a bare key: the digest comparison is OpenSSL's whole check
        matches.insert(matches.end(), digest.begin(), digest.end());
        continue;
      }
      auto a = authenticate(c.chain, {r}, ctx.base, ctx.extra_names, ctx.at);
      if (a.outcome == Outcome::verified) {
        matches.push_back({c.address, a.depth, c.chain.empty() ? "" : c.chain.front().key_type});
        if (digest.empty() && outside.empty()) outside = anchor_outside_chain(r, c, a.depth);
      } else if (!digest.empty() && rejected.empty()) {
        rejected = rejection_note(r, digest.front(), c, a, ctx);
      }
    }
    f.matches = std::move(matches);
    if (f.status == RecordStatus::hidden) {
      continue;  // agility hides it; its matches say where it would match
    }
    if (!f.matches.empty()) {
      f.status = RecordStatus::matched;
      f.note = outside;  // a near-miss hint would contradict the match
    } else if (!rejected.empty()) {
      f.status = RecordStatus::rejected;
      f.note = rejected;
    } else {
      f.status = RecordStatus::unmatched;
    }
  }
  return out;
}

std::vector<TlsaRecord> hidden_by_agility(const std::vector<TlsaRecord>& usable) {
  std::map<std::pair<int, int>, int> best;
  for (const auto& r : usable) {
    auto& b = best[{r.usage, r.selector}];
    b = std::max(b, digest_rank(r.mtype));
  }
  std::vector<TlsaRecord> hidden;
  for (const auto& r : usable) {
    int rank = digest_rank(r.mtype);
    if (rank > 0 && rank < best[{r.usage, r.selector}]) hidden.push_back(r);
  }
  return hidden;
}

std::vector<RecordFinding> analyze_records(const std::vector<TlsaRecord>& records,
                                           const std::vector<ServedChain>& chains) {
  std::vector<TlsaRecord> usable;
  for (const auto& r : records)
    if (usable_for_smtp(r)) usable.push_back(r);
  auto hidden = hidden_by_agility(usable);

  std::vector<RecordFinding> out;
  for (const auto& r : records) {
    RecordFinding f;
    f.record = r;
    set_usability(f, record_usability(r));
    bool can_hash = r.selector <= 1 && r.mtype <= 2;
    if (can_hash) {
      for (const auto& served : chains) {
        for (std::size_t d = 0; d < served.chain.size(); ++d) {
          if (!depth_allowed(r.usage, d)) continue;
          if (tlsa_association(served.chain[d], r.selector, r.mtype) == r.data)
            f.matches.push_back({served.address, static_cast<int>(d), served.chain.front().key_type});
        }
      }
    }
    bool is_hidden = std::find(hidden.begin(), hidden.end(), r) != hidden.end();
    if (f.unusable) {
      f.status = RecordStatus::unusable;
      if (!f.matches.empty())
        f.note = fmt::format("it does match the served chain, but SMTP ignores usage {}; publish {} {} {} instead",
                             usage_name(r.usage), r.usage == usage::pkix_ee ? 3 : 2, r.selector, r.mtype);
    } else if (is_hidden) {
      f.status = RecordStatus::hidden;
      f.note = fmt::format(
          "ignored: a {} record with the same usage and selector exists, and digest algorithm agility "
          "(RFC 7671 §9) makes senders use only the strongest digest present",
          mtype_name(mtype::sha512));
    } else if (!f.matches.empty()) {
      f.status = RecordStatus::matched;
    } else {
      f.status = RecordStatus::unmatched;
    }
    if (f.matches.empty() && !chains.empty()) {
      auto hint = near_miss(r, chains);
      if (!hint.empty()) f.note = f.note.empty() ? hint : f.note + "; " + hint;
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace danekit
