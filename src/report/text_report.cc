// The human report: a tree of domain, MX hosts, DNS answers, TLSA records and
// addresses, then the reasons with fixes. Colour only when asked (a terminal).
//
// Concise unless asked (TextStyle::verbose): DNS answer lines show only where
// an answer failed or is bogus or indeterminate, certificate chains and the
// per-address detail only for addresses a DANE sender does not authenticate or
// encrypt to, so a valid domain fits in a handful of lines. Each logical line
// wraps at TextStyle::width on spaces, at the two-space field breaks where it
// can, continuing under its own indent (+2 for items such as findings, which
// hang under their marker); escape sequences have no width and a word wider
// than the line stays whole.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <string_view>
#include <vector>

#include "danekit/report.h"
#include "util/hex.h"

namespace danekit {

namespace {

class Writer {
 public:
  explicit Writer(TextStyle style) : style_(style) {}

  std::string paint(std::string_view text, std::string_view code) const {
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
  // Green valid; yellow where mail still goes out authenticated (partial) or
  // where DANE is simply absent; red where a DANE sender cannot authenticate.
  // Colour only: exit statuses do not change with it (docs/cli.md).
  static bool verdict_red(Verdict v, Delivery d) {
    if (v == Verdict::partial) return d != Delivery::authenticated;
    return v != Verdict::valid && v != Verdict::none && v != Verdict::no_mail && v != Verdict::undetermined;
  }
  std::string verdict_name(Verdict v, Delivery d, bool strong) const {
    std::string name(to_string(v));
    if (strong)
      for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const char* colour = v == Verdict::valid ? "32" : verdict_red(v, d) ? "31" : "33";
    return paint(name, strong ? fmt::format("1;{}", colour) : std::string(colour));
  }
  std::string verdict(Verdict v, Delivery d) const { return verdict_name(v, d, true); }
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

  bool verbose() const { return style_.verbose; }

  // One logical line at `depth` (two spaces each). With a width it wraps on
  // spaces; continuation lines start `hang` columns right of the line's own
  // indent. A line break inside text also continues there.
  void line(int depth, std::string_view text, std::size_t hang = 0) {
    std::size_t indent = static_cast<std::size_t>(depth) * 2;
    if (style_.width <= 0) {
      out_.append(indent, ' ');
      out_ += text;
      out_ += '\n';
      return;
    }
    for (std::size_t start = 0;;) {
      auto nl = text.find('\n', start);
      wrap(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start),
           start == 0 ? indent : indent + hang, indent + hang);
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  }
  std::string take() { return std::move(out_); }

 private:
  struct Word {
    std::size_t gap = 0;  // spaces before it
    std::string_view text;
    std::size_t columns = 0;
    std::string colour;  // the SGR sequence in effect before it, empty for none
  };

  // Words are runs without a space; ESC [ ... sequences take no column and
  // each UTF-8 code point one.
  static std::vector<Word> split(std::string_view text) {
    std::vector<Word> words;
    std::string active;
    std::size_t i = 0;
    while (i < text.size()) {
      Word w;
      while (i < text.size() && text[i] == ' ') ++w.gap, ++i;
      if (i == text.size()) break;
      w.colour = active;
      std::size_t start = i;
      while (i < text.size() && text[i] != ' ') {
        if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
          std::size_t j = i + 2;
          while (j < text.size() && static_cast<unsigned char>(text[j]) >= 0x21 &&
                 static_cast<unsigned char>(text[j]) <= 0x3f)
            ++j;
          if (j < text.size() && text[j] != ' ') {
            auto seq = text.substr(i, j + 1 - i);
            if (text[j] == 'm') active = seq == "\x1b[0m" || seq == "\x1b[m" ? std::string() : std::string(seq);
            ++j;
          }
          i = j;
          continue;
        }
        if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) ++w.columns;
        ++i;
      }
      w.text = text.substr(start, i - start);
      words.push_back(std::move(w));
    }
    return words;
  }

  // Greedy fill, preferring the report's field breaks: a field (words joined
  // by single spaces, fields apart by two or more) that does not fit on the
  // line but fits on a line of its own starts one; otherwise words fill the
  // line one by one. The spaces at a break are dropped. A colour in effect at
  // a break is closed before the newline and reopened after the indent.
  void wrap(std::string_view text, std::size_t first, std::size_t cont) {
    const auto width = static_cast<std::size_t>(style_.width);
    const auto words = split(text);
    out_.append(first, ' ');
    std::size_t col = first;
    auto newline = [&](const Word& w) {
      if (!w.colour.empty()) out_ += "\x1b[0m";
      out_ += '\n';
      out_.append(cont, ' ');
      out_ += w.colour;
      col = cont;
    };
    for (std::size_t i = 0; i < words.size(); ++i) {
      const Word& w = words[i];
      bool broke = false;
      if (i > 0 && w.gap >= 2) {
        std::size_t field = w.columns;
        for (std::size_t j = i + 1; j < words.size() && words[j].gap < 2; ++j) field += words[j].gap + words[j].columns;
        if (col + w.gap + field > width && cont + field <= width) {
          newline(w);
          broke = true;
        }
      }
      if (!broke && i > 0 && col + w.gap + w.columns > width) {
        newline(w);
        broke = true;
      }
      if (!broke) {
        out_.append(w.gap, ' ');
        col += w.gap;
      }
      out_ += w.text;
      col += w.columns;
    }
    out_ += '\n';
  }

  TextStyle style_;
  std::string out_;
};

// Continuation indents: prose continues under its own start, an item (a
// finding, a record, an address) hangs two columns in, under the text after
// its marker, "fix: ..." and the legend under the text after the label.
constexpr std::size_t kProse = 0;
constexpr std::size_t kItem = 2;
constexpr std::size_t kFix = 5;
constexpr std::size_t kLegend = 8;  // "Legend: "

// Where a concise report keeps the detail: an answer that failed or did not
// validate either way, an address a DANE sender neither authenticates nor
// encrypts to.
bool answer_failed(const DnsStatus& s) {
  return s.kind == AnswerKind::failure || s.security == Security::bogus || s.security == Security::indeterminate;
}
bool host_dns_failed(const MxReport& m) {
  for (const auto& d : m.dns)
    if (answer_failed(d)) return true;
  return false;
}
bool address_failed(Outcome o) { return o != Outcome::verified && o != Outcome::encrypted; }

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

// The legend for what a report shows: the finding markers and ADDRESS@N.
std::string legend_text(bool markers, bool depths) {
  std::string text;
  if (markers) text = "x error, ! warning, i info";
  if (depths)
    text += std::string(markers ? "; " : "") + "ADDRESS@N = matched at chain depth N (0 = the server's certificate)";
  return text.empty() ? text : "Legend: " + text;
}

bool has_markers(const CheckReport& r) { return !r.reasons.empty() || (r.dnssec && !r.dnssec->empty()); }
bool has_depths(const CheckReport& r) {
  for (const auto& m : r.mx)
    for (const auto& f : m.records)
      if (!f.matches.empty()) return true;
  return false;
}

}  // namespace

std::string render_text(const CheckReport& r, TextStyle style) {
  Writer w(style);
  w.line(0,
         fmt::format("{}  {}  delivery: {}", w.bold(r.domain), w.verdict(r.verdict, r.delivery), to_string(r.delivery)),
         kItem);
  w.line(1, delivery_sentence(r.delivery) + ".");
  if (!r.mx_answer.name.empty() && (w.verbose() || answer_failed(r.mx_answer)))
    w.line(1, answer_summary(w, r.mx_answer), kItem);
  for (const auto& m : r.mx) {
    std::string head = m.implicit ? fmt::format("{} (implicit MX: the domain itself)", m.host)
                                  : fmt::format("MX {} {}", m.preference, m.host);
    std::string sts;
    if (m.mta_sts_covered)
      sts = *m.mta_sts_covered ? fmt::format("  MTA-STS: covered by {}", m.mta_sts_pattern)
                               : "  MTA-STS: " + w.bad("not covered");
    w.line(1, fmt::format("{}  DANE: {}{}", w.bold(head), w.dane(m.dane), sts), kItem);
    if (w.verbose() || host_dns_failed(m))
      for (const auto& d : m.dns) w.line(2, answer_summary(w, d), kItem);
    if (!m.records.empty()) {
      w.line(2,
             fmt::format("TLSA base domain {}, {} record{}", m.tlsa_base, m.records.size(),
                         m.records.size() == 1 ? "" : "s"),
             kItem);
      for (const auto& f : m.records) {
        std::string name(to_string(f.status));
        std::string status = f.status == RecordStatus::matched     ? w.good(name)
                             : f.status == RecordStatus::unmatched ? w.warn(name)
                                                                   : w.bad(name);
        std::string where;
        for (const auto& match : f.matches) where += fmt::format(" {}@{}", match.address, match.depth);
        w.line(3,
               fmt::format("{} {} {} {}  {}  {}{}", f.record.usage, f.record.selector, f.record.mtype,
                           short_hex(f.record.data), w.dim(describe_parameters(f.record)), status,
                           where.empty() ? "" : " at" + where),
               kItem);
        if (f.unusable) w.line(4, w.dim(*f.unusable));
        if (!f.note.empty()) w.line(4, f.note);
      }
    }
    for (const auto& p : m.addresses) {
      // The chain and the session's detail: for an address a DANE sender
      // does not use as it should, or when asked.
      const bool full = w.verbose() || address_failed(p.outcome);
      std::string tls = p.tls_version.empty() ? "" : fmt::format("  {} {}", p.tls_version, p.cipher);
      std::string webpki = p.pkix == Pkix::valid     ? "  WebPKI " + w.good("valid")
                           : p.pkix == Pkix::invalid ? "  WebPKI " + w.bad("invalid")
                                                     : "";
      w.line(2,
             fmt::format("{}  {}{}{}  {}", p.address, w.outcome(p.outcome), w.dim(tls), webpki,
                         w.dim(fmt::format("{} ms", p.elapsed.count()))),
             kItem);
      if (full && !p.detail.empty()) w.line(3, p.detail);
      if (p.pkix == Pkix::invalid && !p.pkix_detail.empty()) w.line(3, "WebPKI: " + p.pkix_detail);
      if (p.plaintext_injection) w.line(3, w.bad("server sent data after its STARTTLS reply (discarded)"));
      for (std::size_t d = 0; full && d < p.chain.size(); ++d) {
        const auto& c = p.chain[d];
        w.line(3,
               fmt::format("{} {}  {}", d, c.subject.empty() ? "(empty subject)" : c.subject,
                           w.dim(fmt::format("{}, until {}", c.key_type, iso8601(c.not_after)))),
               kItem);
        if (!c.dns_names.empty()) w.line(4, fmt::format("names {}", fmt::join(c.dns_names, ", ")), kItem);
        w.line(4, w.dim(fmt::format("issuer {}; spki sha256 {}", c.issuer, c.spki_sha256)), kItem);
      }
      if (p.alternate && !p.alternate->chain.empty()) {
        const auto& a = *p.alternate;
        const auto& leaf = a.chain.front();
        w.line(3, fmt::format("offered only {} signature algorithms, it serves another certificate: {}",
                              a.offer == "rsa" ? "RSA" : "ECDSA", w.outcome(a.outcome)));
        if (full || address_failed(a.outcome))
          w.line(4,
                 fmt::format("0 {}  {}", leaf.subject.empty() ? "(empty subject)" : leaf.subject,
                             w.dim(fmt::format("{}, until {}", leaf.key_type, iso8601(leaf.not_after)))),
                 kItem);
      }
    }
  }
  if (r.mta_sts.checked) {
    const auto& m = r.mta_sts;
    std::string mode = m.mode ? std::string(sts::to_string(*m.mode)) : std::string("absent");
    std::string head =
        fmt::format("{} {}", w.bold("MTA-STS:"), m.mode == sts::Mode::enforce ? w.good(mode) : w.warn(mode));
    if (!m.id.empty()) head += fmt::format("  id {}", m.id);
    if (m.max_age) head += fmt::format("  max_age {}", *m.max_age);
    if (!m.mx.empty()) head += fmt::format("  mx {}", fmt::join(m.mx, " "));
    w.line(1, head, kItem);
    // The fetch: where it failed, or when asked.
    if (m.fetch != "not-fetched" && (w.verbose() || m.fetch != "ok")) {
      std::string fetch = m.fetch == "ok"
                              ? fmt::format("fetched from {} ({}, {})", m.fetch_address, m.http_status,
                                            m.content_type.empty() ? "no content type" : m.content_type)
                              : fmt::format("{}{}", m.fetch, m.fetch_detail.empty() ? "" : ": " + m.fetch_detail);
      w.line(2, fmt::format("{}  {}", m.policy_url, fetch), kItem);
    }
    const auto& t = r.tls_rpt;
    std::string status(sts::to_string(t.status));
    w.line(1,
           fmt::format("{} {}{}", w.bold("TLS-RPT:"),
                       t.status == sts::RecordStatus::valid ? w.good(status) : w.warn(status),
                       t.rua.empty() ? "" : fmt::format("  rua {}", fmt::join(t.rua, " "))),
           kItem);
    w.line(1,
           fmt::format("{} DANE {}, MTA-STS {}, DANE+MTA-STS {}", w.bold("Delivery by sender:"), to_string(r.delivery),
                       to_string(r.by_sender.mta_sts), to_string(r.by_sender.both)),
           kItem);
  }
  if (!r.reasons.empty()) {
    w.line(1, w.bold("Findings"));
    for (const auto& x : r.reasons) {
      std::string where = x.address.empty() ? x.host : x.address;
      w.line(2,
             fmt::format("{} {}{}: {}{}", w.marker(x.severity), x.code, where.empty() ? "" : " [" + where + "]", x.text,
                         x.rfc.empty() ? "" : w.dim(" (" + x.rfc + ")")),
             kItem);
      if (!x.fix.empty()) w.line(3, "fix: " + x.fix, kFix);
    }
  }
  if (r.dnssec) {
    // The per-nameserver audit behind a bogus answer (danekit dnssec DOMAIN for all of it).
    w.line(1, w.bold("DNSSEC audit") + w.dim(fmt::format(" (danekit dnssec {})", r.domain)));
    if (r.dnssec->empty()) w.line(2, "no finding that explains it");
    for (const auto& f : *r.dnssec) {
      w.line(2,
             fmt::format("{} {} [{} {}]: {}{}", w.marker(f.severity), f.code, f.zone, f.server,
                         sanitize_for_display(f.text), w.dim(" (" + f.rfc + ")")),
             kItem);
      w.line(3, "fix: " + sanitize_for_display(f.fix), kFix);
    }
  }
  if (!r.determined && r.verdict != Verdict::undetermined)
    w.line(1, w.warn("The verdict rests on failures that may pass (DNS failures, timeouts, servers that did not "
                     "answer); run the check again."));
  if (style.legend) {
    auto legend = legend_text(has_markers(r), has_depths(r));
    if (!legend.empty()) w.line(0, w.dim(legend), kLegend);
  }
  return w.take();
}

std::string render_summary(const std::vector<CheckReport>& reports, int exit_status, TextStyle style) {
  Writer w(style);
  bool markers = false, depths = false;
  for (const auto& r : reports) {
    markers |= has_markers(r);
    depths |= has_depths(r);
  }
  auto legend = legend_text(markers, depths);
  if (!legend.empty()) w.line(0, w.dim(legend), kLegend);
  // One count per verdict, in the order of the enum (best first); the colour
  // of partial follows the worst delivery among the partial domains.
  std::vector<std::string> counts;
  for (auto v : {Verdict::valid, Verdict::partial, Verdict::invalid, Verdict::unusable, Verdict::none,
                 Verdict::dnssec_failure, Verdict::no_mail, Verdict::undetermined}) {
    std::size_t n = 0;
    Delivery d = Delivery::authenticated;
    for (const auto& r : reports)
      if (r.verdict == v) {
        ++n;
        if (r.delivery != Delivery::authenticated) d = r.delivery;
      }
    if (n > 0) counts.push_back(fmt::format("{} {}", n, w.verdict_name(v, d, false)));
  }
  w.line(0,
         fmt::format("{} domain{}: {} (exit status {})", reports.size(), reports.size() == 1 ? "" : "s",
                     fmt::join(counts, ", "), exit_status),
         kItem);
  return w.take();
}

}  // namespace danekit
