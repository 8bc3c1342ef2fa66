// The monitoring writers of `danekit check`: the plugin status line (--nagios)
// and the Prometheus text format (--format prometheus). See danekit/monitoring.h.
#include "danekit/monitoring.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

#include "policy/reason_catalog.h"
#include "util/hex.h"

namespace danekit {

namespace {

constexpr std::int64_t day = 86400;

void earliest(std::optional<std::int64_t>& acc, std::int64_t t) {
  if (!acc || t < *acc) acc = t;
}

// One certificate set served by an address: the chain and what matched it.
void chain_expiry(std::optional<std::int64_t>& acc, Outcome outcome, const std::optional<TlsaRecord>& matched,
                  int match_depth, const std::vector<CertInfo>& chain) {
  // RFC 7672 §3.1.1: DANE-EE(3) ignores the dates; §3.1.2: DANE-TA(2) checks
  // the path from the leaf to the trust anchor, the certificate at the match
  // depth. A bare-key trust anchor the server does not send (match depth past
  // the chain) leaves the chain as sent.
  if (outcome != Outcome::verified || !matched || matched->usage != usage::dane_ta) return;
  std::size_t top = match_depth < 0 ? chain.size() : std::min(chain.size(), static_cast<std::size_t>(match_depth) + 1);
  for (std::size_t d = 0; d < top; ++d) earliest(acc, chain[d].not_after);
}

bool is_local(const Reason& x) {
  const ReasonInfo* info = find_reason(x.code);
  return info && info->group == "local";
}

// The summary is free text inside a structured line: no '|' (it starts the
// performance data), no control characters, no newline.
std::string plugin_text(std::string_view text) {
  std::string s = sanitize_for_display(text);
  std::replace(s.begin(), s.end(), '|', '/');
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return s;
}

const char* status_word(int status) {
  switch (status) {
    case plugin_status::ok: return "OK";
    case plugin_status::warning: return "WARNING";
    case plugin_status::critical: return "CRITICAL";
    default: return "UNKNOWN";
  }
}

// Whole days until `t`, rounded down: 6.9 days left is 6, below a threshold of 7.
std::int64_t days_until(std::int64_t t, std::int64_t now) {
  std::int64_t s = t - now;
  return s >= 0 ? s / day : -((-s + day - 1) / day);
}

// The first error, else the first warning: what an operator reads first.
const Reason* top_reason(const CheckReport& r, std::size_t& others) {
  const Reason* top = nullptr;
  others = 0;
  for (Severity want : {Severity::error, Severity::warning})
    for (const auto& x : r.reasons) {
      if (x.severity != want) continue;
      if (!top)
        top = &x;
      else
        ++others;
    }
  return top;
}

// Prometheus text format: label values escape backslash, double quote and
// newline; HELP text escapes backslash and newline.
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

struct Labels {
  Labels(std::string d, std::string m = {}, std::string a = {}, std::string v = {})
      : domain(std::move(d)), mx(std::move(m)), address(std::move(a)), verdict(std::move(v)) {}
  std::string domain, mx, address, verdict;
};

std::string labels_text(const Labels& l) {
  std::string out = "{domain=\"" + label_value(l.domain) + "\"";
  if (!l.mx.empty()) out += ",mx=\"" + label_value(l.mx) + "\"";
  if (!l.address.empty()) out += ",address=\"" + label_value(l.address) + "\"";
  if (!l.verdict.empty()) out += ",verdict=\"" + label_value(l.verdict) + "\"";
  return out + "}";
}

class Family {
 public:
  Family(std::string& out, std::string_view name, std::string_view help) : out_(out), name_(name) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  }
  void sample(const Labels& l, double value) { out_ += fmt::format("{}{} {}\n", name_, labels_text(l), value); }
  void sample(const Labels& l, std::int64_t value) { out_ += fmt::format("{}{} {}\n", name_, labels_text(l), value); }

 private:
  std::string& out_;
  std::string name_;
};

constexpr std::array all_verdicts{Verdict::valid, Verdict::partial,        Verdict::invalid, Verdict::unusable,
                                  Verdict::none,  Verdict::dnssec_failure, Verdict::no_mail, Verdict::undetermined};

// Earliest leaf not-after of the certificates one address serves (both of a
// dual-certificate server).
std::optional<std::int64_t> leaf_not_after(const ProbeResult& p) {
  std::optional<std::int64_t> t;
  if (!p.chain.empty()) earliest(t, p.chain[0].not_after);
  if (p.alternate && !p.alternate->chain.empty()) earliest(t, p.alternate->chain[0].not_after);
  return t;
}

}  // namespace

std::optional<std::int64_t> dane_expiry(const CheckReport& r) {
  std::optional<std::int64_t> t;
  for (const auto& m : r.mx)
    for (const auto& p : m.addresses) {
      chain_expiry(t, p.outcome, p.matched, p.match_depth, p.chain);
      if (p.alternate)
        chain_expiry(t, p.alternate->outcome, p.alternate->matched, p.alternate->match_depth, p.alternate->chain);
    }
  return t;
}

bool undetermined_locally(const CheckReport& r) {
  if (r.verdict == Verdict::undetermined) return true;
  if (std::any_of(r.reasons.begin(), r.reasons.end(), is_local)) return true;
  for (const auto& m : r.mx)
    if (std::any_of(m.reasons.begin(), m.reasons.end(), is_local)) return true;
  return false;
}

int nagios_verdict_status(const CheckReport& r, bool expect_dane) {
  if (r.verdict == Verdict::undetermined) return plugin_status::unknown;
  switch (r.verdict) {
    case Verdict::valid:
    case Verdict::no_mail: return plugin_status::ok;
    case Verdict::none: return expect_dane ? plugin_status::critical : plugin_status::ok;
    default: break;
  }
  // A verdict that rests on failures says nothing definite about the domain:
  // the cause decides between "the domain's servers failed us" and "we did".
  if (!r.determined) return undetermined_locally(r) ? plugin_status::unknown : plugin_status::critical;
  switch (r.verdict) {
    case Verdict::partial:
    case Verdict::unusable: return plugin_status::warning;
    default: return plugin_status::critical;  // invalid, dnssec-failure
  }
}

NagiosResult to_nagios(const CheckReport& r, const NagiosOptions& o) {
  NagiosResult n;
  n.status = nagios_verdict_status(r, o.expect_dane);

  std::size_t addresses = 0, authenticated = 0;
  for (const auto& m : r.mx)
    for (const auto& p : m.addresses) {
      ++addresses;
      if (p.outcome == Outcome::verified) ++authenticated;
    }

  std::string summary = fmt::format("{}: {}", r.domain, to_string(r.verdict));
  if (!r.determined && r.verdict != Verdict::undetermined) summary += " (not determined)";
  summary += fmt::format(", delivery {}", to_string(r.delivery));
  if (addresses > 0) summary += fmt::format(", {} of {} addresses authenticated", authenticated, addresses);
  if (r.verdict == Verdict::none && o.expect_dane) summary += ", DANE expected";

  auto expiry = dane_expiry(r);
  std::optional<std::int64_t> days;
  if (expiry) {
    days = days_until(*expiry, r.checked_at);
    int by_date = *days < o.crit_days   ? plugin_status::critical
                  : *days < o.warn_days ? plugin_status::warning
                                        : plugin_status::ok;
    if (n.status != plugin_status::unknown) n.status = std::max(n.status, by_date);
    summary += fmt::format(", DANE-TA chain expires in {} days", *days);
  }
  std::size_t others = 0;
  if (const Reason* top = top_reason(r, others)) {
    summary += "; " + top->code;
    if (!top->address.empty())
      summary += " at " + top->address;
    else if (!top->host.empty())
      summary += " at " + top->host;
    if (others > 0) summary += fmt::format(" (+{} more)", others);
  }

  std::string perf = fmt::format("time={}s;;;0 addresses={};;;0 authenticated={};;;0",
                                 static_cast<double>(r.elapsed_ms) / 1000.0, addresses, authenticated);
  if (days) perf += fmt::format(" cert_days={};{}:;{}:;;", *days, o.warn_days, o.crit_days);
  n.line = fmt::format("DANE {} - {} | {}", status_word(n.status), plugin_text(summary), perf);
  return n;
}

std::string nagios_unknown_line(std::string_view message) {
  return fmt::format("DANE UNKNOWN - {}", plugin_text(message));
}

std::string to_prometheus(const std::vector<CheckReport>& all) {
  std::vector<const CheckReport*> reports;
  std::set<std::string> seen;
  for (const auto& r : all)
    if (seen.insert(r.domain).second) reports.push_back(&r);

  std::string out;
  {
    Family f(out, "danekit_check_timestamp_seconds", "When danekit checked the domain, seconds since the epoch.");
    for (const auto* r : reports) f.sample({r->domain}, r->checked_at);
  }
  {
    Family f(out, "danekit_check_duration_seconds", "How long the check of the domain took.");
    for (const auto* r : reports) f.sample({r->domain}, static_cast<double>(r->elapsed_ms) / 1000.0);
  }
  {
    Family f(out, "danekit_verdict",
             "The RFC 7672 verdict for the domain: 1 for the verdict danekit reached, 0 for the others.");
    for (const auto* r : reports)
      for (Verdict v : all_verdicts)
        f.sample({r->domain, "", "", std::string(to_string(v))}, std::int64_t{r->verdict == v ? 1 : 0});
  }
  {
    Family f(out, "danekit_determined", "1 when the verdict rests on answers, 0 when failures or timeouts decided it.");
    for (const auto* r : reports) f.sample({r->domain}, std::int64_t{r->determined ? 1 : 0});
  }
  {
    Family f(out, "danekit_authenticated", "1 when a DANE sender delivers mail to the domain authenticated.");
    for (const auto* r : reports) f.sample({r->domain}, std::int64_t{r->delivery == Delivery::authenticated ? 1 : 0});
  }
  {
    Family f(out, "danekit_dane_expiry_timestamp_seconds",
             "Earliest not-after of a certificate whose dates DANE authentication depends on (DANE-TA chains), "
             "seconds since the epoch; absent when no date matters.");
    for (const auto* r : reports)
      if (auto t = dane_expiry(*r)) f.sample({r->domain}, *t);
  }
  {
    Family f(out, "danekit_mx_authenticated", "1 when the MX host authenticates with DANE on every address.");
    for (const auto* r : reports)
      for (const auto& m : r->mx) f.sample({r->domain, m.host}, std::int64_t{m.dane == HostDane::authenticated});
  }
  {
    Family f(out, "danekit_mx_tlsa_ttl_seconds", "TTL of the MX host's TLSA RRset; absent when it has none.");
    for (const auto* r : reports)
      for (const auto& m : r->mx)
        if (!m.records.empty()) f.sample({r->domain, m.host}, std::int64_t{m.tlsa_ttl});
  }
  {
    Family f(out, "danekit_address_authenticated", "1 when DANE authentication of the address succeeded.");
    for (const auto* r : reports)
      for (const auto& m : r->mx)
        for (const auto& p : m.addresses)
          f.sample({r->domain, m.host, p.address}, std::int64_t{p.outcome == Outcome::verified});
  }
  {
    Family f(out, "danekit_certificate_not_after_seconds",
             "Not-after of the certificate the address served (the earlier of two), seconds since the epoch; "
             "absent when no certificate was seen.");
    for (const auto* r : reports)
      for (const auto& m : r->mx)
        for (const auto& p : m.addresses)
          if (auto t = leaf_not_after(p)) f.sample({r->domain, m.host, p.address}, *t);
  }
  return out;
}

}  // namespace danekit
