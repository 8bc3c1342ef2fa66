// The human report: a tree of domain, MX hosts, DNS answers, TLSA records and
// addresses, then the reasons with fixes. Colour only when asked (a terminal).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "danekit/report.h"
#include "util/hex.h"

namespace danekit {

namespace {

class Writer {
 public:
  explicit Writer(TextStyle style) : style_(style) {}

  std::string paint(std::string_view text, const char* code) const {
    if (!style_.color) return std::string(text);
    return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
  }
  std::string good(std::string_view t) const { return paint(t, "32"); }
  std::string bad(std::string_view t) const { return paint(t, "31"); }
  std::string warn(std::string_view t) const { return paint(t, "33"); }
  std::string dim(std::string_view t) const { return paint(t, "2"); }
  std::string bold(std::string_view t) const { return paint(t, "1"); }

  std::string security(Security s) const {
    auto name = to_string(s);
    switch (s) {
      case Security::secure: return good(name);
      case Security::insecure: return warn(name);
      default: return bad(name);
    }
  }
  std::string verdict(Verdict v) const {
    std::string name(to_string(v));
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (v == Verdict::valid) return paint(name, "1;32");
    if (v == Verdict::none || v == Verdict::no_mail || v == Verdict::undetermined) return paint(name, "1;33");
    return paint(name, "1;31");
  }
  std::string outcome(Outcome o) const {
    auto name = to_string(o);
    if (o == Outcome::verified) return good(name);
    if (o == Outcome::encrypted || o == Outcome::not_checked) return warn(name);
    return bad(name);
  }
  std::string dane(HostDane d) const {
    auto name = to_string(d);
    if (d == HostDane::authenticated) return good(name);
    if (d == HostDane::none || d == HostDane::encrypt_only) return warn(name);
    return bad(name);
  }
  std::string marker(Severity s) const {
    switch (s) {
      case Severity::error: return bad("x");
      case Severity::warning: return warn("!");
      case Severity::info: return dim("i");
    }
    return "-";
  }

  void line(int depth, const std::string& text) {
    out_ += std::string(static_cast<std::size_t>(depth) * 2, ' ');
    out_ += text;
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  TextStyle style_;
  std::string out_;
};

std::string delivery_sentence(Delivery d) {
  switch (d) {
    case Delivery::authenticated: return "a DANE sender delivers over authenticated TLS";
    case Delivery::encrypted: return "a DANE sender delivers over TLS, but cannot authenticate the server";
    case Delivery::opportunistic: return "DANE does not apply: delivery uses opportunistic TLS or plaintext";
    case Delivery::deferred: return "a DANE sender defers the mail: no MX host can be used";
    case Delivery::undeliverable: return "no mail can be delivered to this domain";
    case Delivery::unknown: return "danekit could not finish this check; it says nothing about the domain";
  }
  return "";
}

std::string answer_summary(const Writer& w, const DnsStatus& s) {
  std::string what;
  switch (s.kind) {
    case AnswerKind::data: what = "data"; break;
    case AnswerKind::nodata: what = "NODATA"; break;
    case AnswerKind::nxdomain: what = "NXDOMAIN"; break;
    case AnswerKind::failure: what = "failed"; break;
  }
  std::string text = fmt::format("{} {} {} {}", s.type, s.name, w.security(s.security), what);
  if (!s.cname_targets.empty()) text += fmt::format(" via CNAME -> {}", s.cname_targets.back());
  if (s.kind == AnswerKind::data || s.kind == AnswerKind::nodata) text += w.dim(fmt::format(" ttl {}", s.ttl));
  if (!s.detail.empty()) text += w.dim(fmt::format(" ({})", s.detail));
  return text;
}

std::string short_hex(const std::vector<std::uint8_t>& data) {
  auto hex = to_hex(data);
  if (hex.size() > 24) return hex.substr(0, 16) + "..." + hex.substr(hex.size() - 6);
  return hex;
}

}  // namespace

std::string render_text(const CheckReport& r, TextStyle style) {
  Writer w(style);
  w.line(0, fmt::format("{}  {}  delivery: {}", w.bold(r.domain), w.verdict(r.verdict), to_string(r.delivery)));
  w.line(1, delivery_sentence(r.delivery) + ".");
  if (!r.mx_answer.name.empty()) w.line(1, answer_summary(w, r.mx_answer));
  for (const auto& m : r.mx) {
    std::string head = m.implicit ? fmt::format("{} (implicit MX: the domain itself)", m.host)
                                  : fmt::format("MX {} {}", m.preference, m.host);
    w.line(1, fmt::format("{}  DANE: {}", w.bold(head), w.dane(m.dane)));
    for (const auto& d : m.dns) w.line(2, answer_summary(w, d));
    if (!m.records.empty()) {
      w.line(2, fmt::format("TLSA base domain {}, {} record{}", m.tlsa_base, m.records.size(),
                            m.records.size() == 1 ? "" : "s"));
      for (const auto& f : m.records) {
        std::string name(to_string(f.status));
        std::string status = f.status == RecordStatus::matched     ? w.good(name)
                             : f.status == RecordStatus::unmatched ? w.warn(name)
                                                                   : w.bad(name);
        std::string where;
        for (const auto& match : f.matches) where += fmt::format(" {}@{}", match.address, match.depth);
        w.line(3, fmt::format("{} {} {} {}  {}  {}{}", f.record.usage, f.record.selector, f.record.mtype,
                              short_hex(f.record.data), w.dim(describe_parameters(f.record)), status,
                              where.empty() ? "" : " at" + where));
        if (f.unusable) w.line(4, w.dim(*f.unusable));
        if (!f.note.empty()) w.line(4, f.note);
      }
    }
    for (const auto& p : m.addresses) {
      std::string tls = p.tls_version.empty() ? "" : fmt::format("  {} {}", p.tls_version, p.cipher);
      w.line(2, fmt::format("{}  {}{}  {}", p.address, w.outcome(p.outcome), w.dim(tls),
                            w.dim(fmt::format("{} ms", p.elapsed.count()))));
      if (!p.detail.empty()) w.line(3, p.detail);
      if (p.plaintext_injection) w.line(3, w.bad("server sent data after its STARTTLS reply (discarded)"));
      for (std::size_t d = 0; d < p.chain.size(); ++d) {
        const auto& c = p.chain[d];
        w.line(3, fmt::format("{} {}  {}", d, c.subject.empty() ? "(empty subject)" : c.subject,
                              w.dim(fmt::format("{}, until {}", c.key_type, iso8601(c.not_after)))));
        if (!c.dns_names.empty()) w.line(4, fmt::format("names {}", fmt::join(c.dns_names, ", ")));
        w.line(4, w.dim(fmt::format("issuer {}; spki sha256 {}", c.issuer, c.spki_sha256)));
      }
      if (p.alternate && !p.alternate->chain.empty()) {
        const auto& a = *p.alternate;
        const auto& leaf = a.chain.front();
        w.line(3, fmt::format("offered only {} signature algorithms, it serves another certificate: {}",
                              a.offer == "rsa" ? "RSA" : "ECDSA", w.outcome(a.outcome)));
        w.line(4, fmt::format("0 {}  {}", leaf.subject.empty() ? "(empty subject)" : leaf.subject,
                              w.dim(fmt::format("{}, until {}", leaf.key_type, iso8601(leaf.not_after)))));
      }
    }
  }
  if (!r.reasons.empty()) {
    w.line(1, w.bold("Findings"));
    for (const auto& x : r.reasons) {
      std::string where = x.address.empty() ? x.host : x.address;
      w.line(2, fmt::format("{} {}{}: {}{}", w.marker(x.severity), x.code, where.empty() ? "" : " [" + where + "]",
                            x.text, x.rfc.empty() ? "" : w.dim(" (" + x.rfc + ")")));
      if (!x.fix.empty()) w.line(3, "fix: " + x.fix);
    }
  }
  if (r.dnssec) {
    // The per-nameserver audit behind a bogus answer (danekit dnssec DOMAIN for all of it).
    w.line(1, w.bold("DNSSEC audit") + w.dim(fmt::format(" (danekit dnssec {})", r.domain)));
    if (r.dnssec->empty()) w.line(2, "no finding that explains it");
    for (const auto& f : *r.dnssec) {
      w.line(2, fmt::format("{} {} [{} {}]: {}{}", w.marker(f.severity), f.code, f.zone, f.server,
                            sanitize_for_display(f.text), w.dim(" (" + f.rfc + ")")));
      w.line(3, "fix: " + sanitize_for_display(f.fix));
    }
  }
  if (!r.determined && r.verdict != Verdict::undetermined)
    w.line(1, w.warn("The verdict rests on failures that may pass (DNS failures, timeouts, servers that did not "
                     "answer); run the check again."));
  return w.take();
}

}  // namespace danekit
