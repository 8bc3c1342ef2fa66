// `danekit tlsa verify`: records as a publisher typed or published them, checked
// against a chain, key or live server, with the verdict an RFC 7672 sender would
// reach. Everything here is pure; lookup_tlsa() lives in src/check/.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "danekit/authenticate.h"
#include "danekit/match.h"
#include "danekit/tlsa_generate.h"
#include "util/hex.h"

namespace danekit {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// White space a person may paste: no-break (U+00A0, U+202F), the U+2000..U+200B
// spaces, and a byte order mark, all become ' '; parentheses (zone-file
// continuation) too. Other bytes stay, so a stray character is still reported.
std::string normalize_space(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    auto next = [&](std::size_t k) { return i + k < in.size() ? static_cast<unsigned char>(in[i + k]) : 0; };
    if (c == 0xc2 && next(1) == 0xa0) {
      out += ' ';
      i += 1;
    } else if (c == 0xe2 && next(1) == 0x80 && (next(2) <= 0x8b || next(2) == 0xaf) && next(2) >= 0x80) {
      out += ' ';
      i += 2;
    } else if (c == 0xef && next(1) == 0xbb && next(2) == 0xbf) {
      out += ' ';
      i += 2;
    } else if (c == '(' || c == ')' || std::isspace(c)) {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

std::vector<std::string> tokens_of(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

// The data part, with a precise complaint; parse_tlsa_text's own message only
// says "not valid hex".
std::optional<std::string> check_hex(const std::string& hex) {
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(hex[i]))) {
      auto c = static_cast<unsigned char>(hex[i]);
      std::string shown = c >= 0x20 && c < 0x7f ? fmt::format("'{}'", hex[i]) : fmt::format("byte 0x{:02x}", c);
      return fmt::format("TLSA data has {} at hex digit {}, which is not a hex digit", shown, i + 1);
    }
  }
  if (hex.size() % 2) return fmt::format("TLSA data has an odd number of hex digits ({})", hex.size());
  return std::nullopt;
}

tl::expected<TlsaRecord, std::string> parse_generic(const std::vector<std::string>& t, std::size_t at) {
  // RFC 3597 §5: "\# LENGTH HEX..."
  if (t.size() < at + 2) return tl::unexpected(std::string("generic RDATA needs \\# LENGTH HEX"));
  unsigned long length = 0;
  try {
    std::size_t used = 0;
    length = std::stoul(t[at + 1], &used);
    if (used != t[at + 1].size()) throw std::invalid_argument("length");
  } catch (const std::exception&) {
    return tl::unexpected(fmt::format("generic RDATA length '{}' is not a number", t[at + 1]));
  }
  std::string hex;
  for (std::size_t i = at + 2; i < t.size(); ++i) hex += t[i];
  if (auto bad = check_hex(hex)) return tl::unexpected(*bad);
  auto wire = *from_hex(hex);
  if (wire.size() != length)
    return tl::unexpected(fmt::format("generic RDATA says {} bytes but has {}", length, wire.size()));
  auto r = parse_tlsa_wire(wire);
  if (!r) return r;
  if (r->mtype == mtype::sha256 && r->data.size() != 32)
    return tl::unexpected(fmt::format("SHA2-256 data is {} bytes long, it must be 32", r->data.size()));
  if (r->mtype == mtype::sha512 && r->data.size() != 64)
    return tl::unexpected(fmt::format("SHA2-512 data is {} bytes long, it must be 64", r->data.size()));
  return r;
}

tl::expected<TlsaRecord, std::string> parse_rdata_tokens(const std::vector<std::string>& t, std::size_t at) {
  if (at < t.size() && t[at] == "\\#") return parse_generic(t, at);
  if (t.size() < at + 4)
    return tl::unexpected(std::string("a TLSA record needs usage, selector, matching type and data"));
  std::string hex;
  for (std::size_t i = at + 3; i < t.size(); ++i) hex += t[i];
  // Fields first, so "DANE-XX 1 1 .." is reported as the unknown usage it is.
  auto fields = parse_tlsa_text(fmt::format("{} {} {} 00", t[at], t[at + 1], t[at + 2]));
  if (!fields && fields.error().find("invalid TLSA") != std::string::npos) return tl::unexpected(fields.error());
  if (auto bad = check_hex(hex)) return tl::unexpected(*bad);
  return parse_tlsa_text(fmt::format("{} {} {} {}", t[at], t[at + 1], t[at + 2], hex));
}

std::string strip_comment(std::string_view line) {
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == ';') break;
    bool after_space = i == 0 || std::isspace(static_cast<unsigned char>(line[i - 1]));
    if (c == '#' && after_space) break;  // "\#" (RFC 3597) follows a backslash, not a space
    out += c;
  }
  return out;
}

bool is_usage_token(const std::string& t) {
  return static_cast<bool>(parse_usage(t)) || (!t.empty() && std::all_of(t.begin(), t.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c));
         }));
}

std::string what_matched(const RecordFinding& f, const std::vector<ServedChain>& chains) {
  std::string kind = f.record.selector == selector::cert ? "certificate" : "key";
  std::vector<std::string> seen;
  for (const auto& m : f.matches) {
    const CertInfo* cert = nullptr;
    for (const auto& c : chains)
      if (c.address == m.address && m.depth < static_cast<int>(c.chain.size())) cert = &c.chain[m.depth];
    std::string subject = cert && !cert->subject.empty() ? fmt::format(" ({})", cert->subject) : "";
    std::string text = fmt::format("the {} at depth {}{} in {}", kind, m.depth, subject, m.address);
    // A DANE-TA(2) SPKI(1) Full(0) key outside the chain matches by its signature
    // on the certificate at this depth (explain_records' note says so).
    if (cert && f.record.selector == selector::spki && f.record.mtype == mtype::full && cert->spki_der != f.record.data)
      text = fmt::format("the key that signed the certificate at depth {}{} in {}", m.depth, subject, m.address);
    if (std::find(seen.begin(), seen.end(), text) == seen.end()) seen.push_back(text);
  }
  std::string out;
  for (const auto& s : seen) out += (out.empty() ? "" : "; ") + s;
  return out;
}

RecordVerdict verdict_for(const RecordFinding& f, const std::vector<ServedChain>& chains) {
  RecordVerdict v;
  v.finding = f;
  if (f.status == RecordStatus::matched) {
    v.verdict = "matches";
    v.detail = what_matched(f, chains) + (f.note.empty() ? "" : "; " + f.note);
  } else if (f.status == RecordStatus::rejected) {
    v.verdict = "rejected";
    v.detail = f.note;
  } else if (f.status == RecordStatus::unusable) {
    v.verdict = "unusable";
    v.detail = *f.unusable + (f.note.empty() ? "" : "; " + f.note);
  } else if (f.status == RecordStatus::hidden) {
    v.verdict = "hidden";
    v.detail = f.note;
    if (!f.matches.empty()) v.detail += "; it would match " + what_matched(f, chains);
  } else if (!f.note.empty()) {
    v.verdict = "near-miss";
    v.detail = f.note;
  } else {
    v.verdict = "stale";
    v.detail = chains.empty() ? "nothing to match against" : "matches nothing that was checked";
  }
  return v;
}

std::string served_name(const KeySource& s) {
  auto space = s.name.find(' ');
  return s.name.rfind("--", 0) == 0 && space != std::string::npos ? s.name.substr(space + 1) : s.name;
}

// RFC 7672 §3.1.3 and RFC 7671 §9 over per-record findings.
void rrset_from_findings(VerifyReport& r) {
  std::size_t usable = 0;
  const RecordVerdict* winner = nullptr;
  std::size_t index = 0;
  for (std::size_t i = 0; i < r.records.size(); ++i) {
    const auto& v = r.records[i];
    if (!v.finding.unusable) ++usable;
    if (v.verdict == "matches" && !winner) {
      winner = &v;
      index = i + 1;
    }
  }
  if (usable == 0) {
    r.verdict = RrsetVerdict::encrypt_only;
    r.verdict_detail = r.records.empty()
                           ? "no records: a DANE sender treats the server as having no TLSA records"
                           : "no record is usable for SMTP: a DANE sender requires TLS but authenticates nothing";
    return;
  }
  if (winner) {
    r.verdict = RrsetVerdict::authenticates;
    r.verdict_detail =
        fmt::format("record {} ({}) matches {}", index, describe_parameters(winner->finding.record), winner->detail);
    if (winner->finding.record.usage == usage::dane_ta)
      r.verdict_detail += "; a sender also checks the chain's signatures, dates and names, which only --server does";
    return;
  }
  r.verdict = RrsetVerdict::fails;
  r.verdict_detail =
      fmt::format("{} usable record{}, none matches: a DANE sender defers the mail", usable, usable == 1 ? "" : "s");
}

// The RRset verdict for a certificate chain: OpenSSL's, from authenticate() over
// the usable records, as `danekit check` reaches it after a handshake. The
// per-record verdicts were made by explain_records() with the same context; the
// record OpenSSL matched is forced to "matches" and, when the RRset fails, no
// record may claim to match, so the two can never disagree.
void rrset_from_openssl(VerifyReport& r, const std::vector<TlsaRecord>& records, const ServedChain& served,
                        const DaneContext& ctx) {
  std::vector<TlsaRecord> usable;
  for (const auto& v : r.records)
    if (!v.finding.unusable) usable.push_back(v.finding.record);
  if (usable.empty()) {
    rrset_from_findings(r);  // encrypt-only, with its wording
    return;
  }
  auto a = authenticate(served.chain, usable, ctx.base, ctx.extra_names, ctx.at > 0 ? ctx.at : 1);
  if (a.outcome == Outcome::verified && a.matched) {
    std::size_t index = 0;
    for (std::size_t i = 0; i < records.size() && !index; ++i)
      if (records[i] == *a.matched && !r.records[i].finding.unusable) index = i + 1;
    if (index == 0) index = 1;  // cannot happen: OpenSSL matched one of the records it was given
    auto& v = r.records[index - 1];
    if (v.verdict != "matches") {
      v.finding.status = RecordStatus::matched;
      v.finding.matches = {{served.address, a.depth}};
      v = verdict_for(v.finding, {served});
    }
    r.verdict = RrsetVerdict::authenticates;
    r.verdict_detail = fmt::format("record {} ({}) matches {}", index, describe_parameters(v.finding.record),
                                   what_matched(v.finding, {served}));
    if (a.matched->usage == usage::dane_ta)
      r.verdict_detail += ctx.base.empty()
                              ? "; OpenSSL checked the chain's signatures and dates, not its names: give --host"
                              : fmt::format("; OpenSSL checked the chain's signatures, dates and names ({})", ctx.base);
    return;
  }
  for (auto& v : r.records)
    if (v.verdict == "matches") {  // OpenSSL rejected the RRset: nothing may claim to match
      v.finding.status = RecordStatus::rejected;
      v.finding.note = fmt::format("it matches on its own, but OpenSSL rejects the RRset: {}", a.detail);
      v.verdict = "rejected";
      v.detail = v.finding.note;
    }
  std::size_t n = usable.size();
  r.verdict = RrsetVerdict::fails;
  bool plain =
      a.outcome == Outcome::mismatch &&
      std::none_of(r.records.begin(), r.records.end(), [](const RecordVerdict& v) { return v.verdict == "rejected"; });
  r.verdict_detail =
      plain ? fmt::format("{} usable record{}, none matches: a DANE sender defers the mail", n, n == 1 ? "" : "s")
            : fmt::format(
                  "{} usable record{}, none authenticates the chain: OpenSSL says {} ({}): a DANE sender "
                  "defers the mail",
                  n, n == 1 ? "" : "s", to_string(a.outcome), a.detail);
}

}  // namespace

std::string_view to_string(RrsetVerdict v) {
  switch (v) {
    case RrsetVerdict::authenticates: return "authenticates";
    case RrsetVerdict::fails: return "fails";
    case RrsetVerdict::encrypt_only: return "encrypt-only";
    case RrsetVerdict::no_records: return "no-records";
    case RrsetVerdict::insecure: return "insecure";
    case RrsetVerdict::bogus: return "bogus";
    case RrsetVerdict::undetermined: return "undetermined";
  }
  return "undetermined";
}

tl::expected<TlsaRecord, std::string> parse_tlsa_input(std::string_view text) {
  auto t = tokens_of(normalize_space(text));
  if (t.empty()) return tl::unexpected(std::string("empty TLSA record"));
  return parse_rdata_tokens(t, 0);
}

tl::expected<std::vector<TlsaRecord>, std::string> parse_tlsa_file(std::string_view text) {
  std::vector<TlsaRecord> out;
  std::string pending;
  std::size_t pending_line = 0, line_no = 0;
  int depth = 0;
  auto flush = [&]() -> tl::expected<void, std::string> {
    auto t = tokens_of(normalize_space(pending));
    pending.clear();
    if (t.empty() || t[0][0] == '$') return {};
    std::size_t at = t.size();
    for (std::size_t i = 0; i < t.size(); ++i)
      if (iequals(t[i], "TLSA") || iequals(t[i], "TYPE52")) {
        at = i + 1;
        break;
      }
    if (at == t.size() && !is_usage_token(t[0]))
      return tl::unexpected(fmt::format("line {}: not a TLSA record: '{}'", pending_line, t[0]));
    if (at == t.size()) at = 0;
    auto r = parse_rdata_tokens(t, at);
    if (!r) return tl::unexpected(fmt::format("line {}: {}", pending_line, r.error()));
    out.push_back(std::move(*r));
    return {};
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++line_no;
    auto line = strip_comment(text.substr(start, end - start));
    if (depth == 0) pending_line = line_no;
    for (char c : line) depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    if (depth < 0) return tl::unexpected(fmt::format("line {}: ')' without '('", line_no));
    pending += ' ' + line;
    if (depth == 0)
      if (auto ok = flush(); !ok) return tl::unexpected(ok.error());
    start = end + 1;
  }
  if (depth > 0) return tl::unexpected(fmt::format("line {}: '(' is never closed", pending_line));
  return out;
}

VerifyReport verify_against_source(const std::vector<TlsaRecord>& records, const KeySource& source,
                                   const DaneContext& context) {
  VerifyReport r;
  std::vector<ServedChain> chains;
  ServedChain served;
  served.address = served_name(source);
  if (source.has_certificate()) {
    served.chain = source.chain;
    r.checked_against =
        fmt::format("{} ({} certificate{})", source.name, source.chain.size(), source.chain.size() == 1 ? "" : "s");
  } else {
    CertInfo key_only;  // no certificate: only selector SPKI(1) can be compared
    key_only.spki_der = source.spki;
    served.chain.push_back(key_only);
    r.checked_against = source.name;
  }
  chains.push_back(std::move(served));

  // With no certificate, Cert(0) records cannot be checked; leaving them out of
  // analyze_records also keeps them from "matching" an empty certificate. Agility
  // is per usage and selector, so the others' findings do not change.
  std::vector<TlsaRecord> checkable;
  for (const auto& rec : records)
    if (source.has_certificate() || rec.selector != selector::cert) checkable.push_back(rec);
  auto findings = explain_records(checkable, chains, context);
  std::size_t next = 0;
  for (const auto& rec : records) {
    if (source.has_certificate() || rec.selector != selector::cert) {
      auto f = findings[next++];
      if (!source.has_certificate() && f.record.data.empty()) f.note.clear();
      r.records.push_back(verdict_for(f, chains));
      continue;
    }
    RecordFinding f;
    f.record = rec;
    set_usability(f, record_usability(rec));
    RecordVerdict v = f.unusable ? verdict_for(f, chains) : RecordVerdict{f, "unchecked", ""};
    if (!f.unusable)
      v.detail = fmt::format("a Cert(0) record needs the certificate; {} has only the public key", source.name);
    r.records.push_back(std::move(v));
  }
  // A bare key has no chain to hand to OpenSSL: for it the DANE-EE(3) SPKI(1)
  // comparison in explain_records() is the whole of what OpenSSL would check.
  if (source.has_certificate())
    rrset_from_openssl(r, records, chains.front(), context);
  else
    rrset_from_findings(r);
  if (r.verdict == RrsetVerdict::fails) {
    auto unchecked = std::count_if(r.records.begin(), r.records.end(),
                                   [](const RecordVerdict& v) { return v.verdict == "unchecked"; });
    if (unchecked > 0)
      r.verdict_detail +=
          fmt::format(" ({} Cert(0) record{} not checked: give the certificate)", unchecked, unchecked == 1 ? "" : "s");
  }
  if (records.size() > max_comfortable_rrset)
    r.warnings.push_back(
        fmt::format("{} records in one RRset: more than {} makes large DNS answers that some "
                    "receivers and resolvers reject",
                    records.size(), max_comfortable_rrset));
  return r;
}

VerifyReport verify_against_server(const std::vector<TlsaRecord>& records, const std::vector<ProbeResult>& probes,
                                   const DaneContext& context) {
  VerifyReport r;
  std::vector<ServedChain> chains;
  for (const auto& p : probes)
    if (!p.chain.empty()) chains.push_back({p.address, p.chain});
  for (const auto& f : explain_records(records, chains, context)) r.records.push_back(verdict_for(f, chains));
  r.servers = probes;
  if (records.size() > max_comfortable_rrset)
    r.warnings.push_back(
        fmt::format("{} records in one RRset: more than {} makes large DNS answers that some "
                    "receivers and resolvers reject",
                    records.size(), max_comfortable_rrset));

  bool any_usable =
      std::any_of(r.records.begin(), r.records.end(), [](const RecordVerdict& v) { return !v.finding.unusable; });
  if (!any_usable) {
    rrset_from_findings(r);  // encrypt-only, with its wording
    bool reached = std::any_of(probes.begin(), probes.end(), [](const ProbeResult& p) {
      return p.outcome == Outcome::encrypted || p.outcome == Outcome::verified;
    });
    if (!reached && !probes.empty()) {
      r.verdict = RrsetVerdict::undetermined;
      r.verdict_detail = "no usable record, and no address completed TLS: " + probes[0].detail;
    }
    return r;
  }
  // OpenSSL's verdict per address (RFC 7672 §2.2: every address must authenticate).
  const ProbeResult* failed = nullptr;
  const ProbeResult* unreached = nullptr;
  std::size_t verified = 0;
  for (const auto& p : probes) {
    switch (p.outcome) {
      case Outcome::verified: ++verified; break;
      case Outcome::unreachable:
      case Outcome::not_checked:
        if (!unreached) unreached = &p;
        break;
      default:
        if (!failed) failed = &p;
    }
  }
  if (failed) {
    r.verdict = RrsetVerdict::fails;
    r.verdict_detail = fmt::format("{}: {} ({})", failed->address, to_string(failed->outcome), failed->detail);
  } else if (unreached || probes.empty()) {
    r.verdict = RrsetVerdict::undetermined;
    r.verdict_detail =
        unreached ? fmt::format("{}: {} ({})", unreached->address, to_string(unreached->outcome), unreached->detail)
                  : "no address was probed";
  } else {
    r.verdict = RrsetVerdict::authenticates;
    const auto& p = probes.front();
    r.verdict_detail = fmt::format("{} of {} address{} verified by OpenSSL's DANE check", verified, probes.size(),
                                   probes.size() == 1 ? "" : "es");
    if (p.matched)
      r.verdict_detail += fmt::format("; {} matched {} at depth {}",
                                      fmt::format("{} {} {}", p.matched->usage, p.matched->selector, p.matched->mtype),
                                      p.address, p.match_depth);
  }
  return r;
}

void apply_dns_status(VerifyReport& r, const DnsStatus& dns) {
  r.dns = dns;
  r.records_from = "DNS";
  // Bogus first: libunbound reports a bogus answer as a failure with the bogus
  // flag, and bogus is a definite finding, not "could not find out".
  if (dns.security == Security::bogus) {
    // RFC 7672 §2.1.1: a bogus TLSA RRset makes the sender defer the mail.
    r.verdict = RrsetVerdict::bogus;
    r.verdict_detail = fmt::format("the TLSA answer failed DNSSEC validation ({}): a DANE sender defers the mail",
                                   dns.detail.empty() ? "bogus" : dns.detail);
  } else if (dns.kind == AnswerKind::failure || dns.security == Security::indeterminate) {
    r.verdict = RrsetVerdict::undetermined;
    r.verdict_detail = fmt::format("the TLSA lookup failed: {}", dns.detail.empty() ? "no answer" : dns.detail);
  } else if (dns.kind != AnswerKind::data) {
    r.verdict = dns.security == Security::secure ? RrsetVerdict::no_records : RrsetVerdict::insecure;
    r.verdict_detail = fmt::format("{} ({}): a DANE sender uses no DANE for this server", to_string(dns.kind),
                                   to_string(dns.security));
  } else if (dns.security == Security::insecure) {
    // RFC 7672 §2.2: records from an unsigned zone are ignored.
    r.verdict = RrsetVerdict::insecure;
    r.verdict_detail =
        "the TLSA records are not DNSSEC-signed: a DANE sender ignores them (the findings below "
        "show what they would do once signed)";
  }
}

int exit_status_for(const VerifyReport& r) {
  switch (r.verdict) {
    case RrsetVerdict::authenticates: return 0;
    case RrsetVerdict::undetermined: return 3;
    default: return 1;
  }
}

std::string render_verify_text(const VerifyReport& r) {
  std::string out;
  out += fmt::format("TLSA records from {}, checked against {}\n", r.records_from, r.checked_against);
  if (!r.tlsa_base.empty()) out += fmt::format("TLSA base domain: {} (records at {})\n", r.tlsa_base, r.owner);
  if (r.dns)
    out += fmt::format("DNS: {} {}, TTL {}{}\n", to_string(r.dns->security), to_string(r.dns->kind), r.dns->ttl,
                       r.dns->detail.empty() ? "" : " (" + r.dns->detail + ")");
  for (std::size_t i = 0; i < r.records.size(); ++i) {
    const auto& v = r.records[i];
    out += fmt::format("\nrecord {}: {}\n  {}\n  {}: {}\n", i + 1, to_presentation(v.finding.record),
                       describe_parameters(v.finding.record), v.verdict, v.detail);
  }
  if (!r.servers.empty()) out += "\n";
  for (const auto& p : r.servers) {
    out += fmt::format("server {}: {}", p.address, to_string(p.outcome));
    if (p.match_depth >= 0) out += fmt::format(" at depth {}", p.match_depth);
    if (!p.detail.empty()) out += fmt::format(" ({})", p.detail);
    out += "\n";
  }
  out += fmt::format("\nRRset: {}: {}\n", to_string(r.verdict), r.verdict_detail);
  return out;
}

}  // namespace danekit
