// apply_sts: MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) for `check`, from the
// answers and the fetch to the report. See danekit/sts_policy.h.
#include "danekit/sts_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "dns/unbound/wire.h"
#include "policy/reason_catalog.h"
#include "policy/reasons.h"

namespace danekit {

namespace {

Severity severity_of(std::string_view letter) {
  if (letter == "E") return Severity::error;
  if (letter == "W" || letter == "I/W" || letter == "E/W") return Severity::warning;
  return Severity::info;
}

// A reason of the catalog's group mta-sts with this text; the severity is the
// catalog's unless given.
Reason sts_reason(const std::string& code, std::string text, std::optional<Severity> sev = std::nullopt,
                  std::string host = {}, std::string address = {}) {
  const ReasonInfo* info = find_reason(code);
  Severity s = sev ? *sev : info ? severity_of(info->severity) : Severity::warning;
  return make_reason(code, s, info ? std::string(info->rfc) : std::string(), std::move(text),
                     info ? std::string(info->fix) : std::string(), std::move(host), std::move(address));
}

// The parsers name the record by its label alone ("at _mta-sts:"); the report
// names it in full.
std::string with_domain(std::string text, const std::string& domain) {
  for (std::string label : {"_mta-sts", "_smtp._tls"}) {
    std::string bare = " at " + label + ":";
    if (auto at = text.find(bare); at != std::string::npos)
      text.replace(at, bare.size(), " at " + label + "." + domain + ":");
  }
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  if (!text.empty() && text.back() != '.') text += '.';
  return text;
}

void add_findings(CheckReport& rep, const std::vector<sts::Finding>& findings, const std::string& host = {}) {
  for (const auto& f : findings)
    rep.reasons.push_back(sts_reason(f.code, with_domain(f.text, rep.domain), std::nullopt, host));
}

std::string lookup_problem(const Answer& a) {
  if (a.security == Security::bogus) return "failed DNSSEC validation" + (a.detail.empty() ? "" : ": " + a.detail);
  return a.detail.empty() ? "failed" : "failed: " + a.detail;
}

bool reachable(const ProbeResult& p) { return p.outcome != Outcome::unreachable && p.outcome != Outcome::not_checked; }

// The session an MTA-STS sender has with address k of host m.
const ProbeResult& sts_session(const MxReport& m, std::size_t k) {
  return m.sts_sessions.size() == m.addresses.size() ? m.sts_sessions[k] : m.addresses[k];
}

// What an MTA-STS sender does with one host; nullopt: it does not deliver there.
std::optional<Delivery> sts_host(const MxReport& m, const std::optional<sts::Mode>& mode) {
  bool enforce = mode && *mode == sts::Mode::enforce;
  for (std::size_t k = 0; k < m.addresses.size(); ++k) {
    const auto& p = sts_session(m, k);
    if (enforce) {
      if (m.mta_sts_covered.value_or(false) && m.addresses[k].pkix == Pkix::valid) return Delivery::authenticated;
    } else if (reachable(p)) {
      return Delivery::opportunistic;
    }
  }
  return std::nullopt;
}

// What a DANE-first sender that also implements MTA-STS does with one host.
std::optional<Delivery> both_host(const MxReport& m, const std::optional<sts::Mode>& mode) {
  switch (m.dane) {
    case HostDane::authenticated: return Delivery::authenticated;
    case HostDane::failed: return std::nullopt;    // MTA-STS never overrides a failing DANE check
    case HostDane::deferred: return std::nullopt;  // bogus or unknown TLSA: a DANE sender waits
    case HostDane::encrypt_only:
      for (const auto& p : m.addresses)
        if (p.outcome == Outcome::encrypted) return Delivery::encrypted;
      return std::nullopt;
    case HostDane::none: return sts_host(m, mode);
  }
  return std::nullopt;
}

template <class HostRule>
Delivery domain_outcome(const CheckReport& rep, HostRule rule) {
  for (const auto& m : rep.mx)
    if (auto d = rule(m)) return *d;
  bool all_missing = !rep.mx.empty() && std::all_of(rep.mx.begin(), rep.mx.end(), [](const MxReport& m) {
    return m.addresses.empty() && m.dane == HostDane::none;
  });
  return all_missing && rep.determined ? Delivery::undeliverable : Delivery::deferred;
}

void record_part(CheckReport& rep, const StsFacts& f, sts::StsRecord& record) {
  auto& out = rep.mta_sts;
  out.record_dns = status_of(f.sts_txt);
  if (f.sts_txt.failed()) {
    rep.reasons.push_back(
        sts_reason("sts-lookup-failed", fmt::format("The TXT lookup at _mta-sts.{} {}; a sender without a cached "
                                                    "policy applies none.",
                                                    rep.domain, lookup_problem(f.sts_txt))));
    out.record_status = sts::RecordStatus::absent;
    return;
  }
  record = sts::parse_sts_txt(txt_records(f.sts_txt));
  out.record_status = record.status;
  out.record = record.record;
  out.id = record.id;
  add_findings(rep, record.findings);
}

void fetch_part(CheckReport& rep, const StsFacts& f, sts::StsPolicy& policy) {
  auto& out = rep.mta_sts;
  out.policy_url = fmt::format("https://{}/.well-known/mta-sts.txt", f.policy_host);
  for (const auto* a : {f.policy_a ? &*f.policy_a : nullptr, f.policy_aaaa ? &*f.policy_aaaa : nullptr}) {
    if (!a || a->failed()) continue;
    for (const auto& rd : a->rdata)
      if (auto addr = parse_address_rdata(a->qtype, rd)) out.policy_addresses.push_back(*addr);
  }
  if (!f.fetch) {
    std::vector<std::string> why;
    for (const auto* a : {f.policy_a ? &*f.policy_a : nullptr, f.policy_aaaa ? &*f.policy_aaaa : nullptr})
      if (a)
        why.push_back(fmt::format("{} {}", rrtype_name(a->qtype),
                                  a->failed() ? lookup_problem(*a) : std::string(to_string(a->kind))));
    out.fetch = "no-address";
    out.fetch_detail = fmt::format("{} has no address ({})", f.policy_host, fmt::join(why, ", "));
    rep.reasons.push_back(
        sts_reason("sts-fetch-failed", fmt::format("The policy cannot be fetched: {}.", out.fetch_detail)));
    return;
  }
  const auto& r = *f.fetch;
  out.fetch = r.outcome;
  out.fetch_detail = r.detail;
  out.fetch_address = r.address;
  out.http_status = r.status;
  out.content_type = r.content_type;
  out.location = r.location;
  if (r.outcome == "redirect") {
    rep.reasons.push_back(sts_reason(
        "sts-redirect", fmt::format("{} answered {} with a redirect to {}; senders do not follow it (RFC 8461 §3.3) "
                                    "and get no policy.",
                                    out.policy_url, r.status, r.location.empty() ? "(no Location)" : r.location)));
    return;
  }
  if (r.outcome == "pkix-invalid") {
    rep.reasons.push_back(
        sts_reason("sts-policy-host-invalid",
                   fmt::format("The certificate of {} does not validate: {}; senders do not read the policy.",
                               f.policy_host, r.detail)));
    return;
  }
  if (r.outcome != "ok") {
    rep.reasons.push_back(sts_reason("sts-fetch-failed",
                                     fmt::format("Fetching {} failed ({}): {}.", out.policy_url, r.outcome, r.detail)));
    return;
  }
  std::string type = r.content_type.substr(0, r.content_type.find(';'));
  type.erase(std::remove_if(type.begin(), type.end(), [](char c) { return c == ' ' || c == '\t'; }), type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type != "text/plain")
    rep.reasons.push_back(sts_reason(
        "sts-content-type",
        fmt::format("The policy is served as '{}', not text/plain: senders that check the media type, as RFC 8461 "
                    "§3.3 says they should (postfix-mta-sts-resolver, for one), ignore the policy; danekit "
                    "reports it as the policy says.",
                    r.content_type.empty() ? "(none)" : r.content_type)));
  policy = sts::parse_sts_policy(r.body);
  add_findings(rep, policy.findings);
  out.policy_valid = policy.valid;
  if (policy.valid) {
    out.mode = policy.mode;
    out.max_age = policy.max_age;
    out.mx = policy.mx;
  }
}

void add_host_reason(CheckReport& rep, MxReport& m, Reason r) {
  m.reasons.push_back(r);
  rep.reasons.push_back(std::move(r));
}

void coverage_part(CheckReport& rep) {
  const auto& sts = rep.mta_sts;
  if (!sts.policy_valid) return;
  bool applies = sts.mode && *sts.mode != sts::Mode::none;
  bool enforce = sts.mode && *sts.mode == sts::Mode::enforce;
  Severity sev = enforce ? Severity::error : Severity::warning;
  for (auto& m : rep.mx) {
    auto match = sts::match_mx(m.host, sts.mx);
    m.mta_sts_covered = match.covered;
    m.mta_sts_pattern = match.pattern;
    if (!applies) continue;
    for (const auto& f : match.findings) add_host_reason(rep, m, sts_reason(f.code, f.text, std::nullopt, m.host));
    if (!match.covered)
      add_host_reason(
          rep, m,
          sts_reason("sts-mx-not-covered",
                     fmt::format("{} matches no mx pattern of the policy ({}); {}.", m.host, fmt::join(sts.mx, ", "),
                                 enforce ? "MTA-STS senders do not deliver to it"
                                         : "under enforce MTA-STS senders would not deliver to it"),
                     sev, m.host));
    if (!match.covered) continue;
    for (const auto& p : m.addresses) {
      if (p.pkix != Pkix::invalid) continue;
      add_host_reason(rep, m,
                      sts_reason("sts-webpki-invalid",
                                 fmt::format("{} serves a certificate that fails the Web PKI for {}: {}; {}.",
                                             p.address, m.host, p.pkix_detail,
                                             enforce ? "MTA-STS senders do not deliver to it"
                                                     : "under enforce MTA-STS senders would not deliver to it"),
                                 sev, m.host, p.address));
    }
  }
}

void disagreement_part(CheckReport& rep) {
  const auto& sts = rep.mta_sts;
  if (!sts.policy_valid || !sts.mode || *sts.mode != sts::Mode::enforce) return;
  for (auto& m : rep.mx) {
    bool sts_ok = sts_host(m, sts.mode).has_value();
    if (m.dane == HostDane::authenticated && !sts_ok) {
      std::string why =
          !m.mta_sts_covered.value_or(false) ? "the host is not in the policy" : "its certificate fails the Web PKI";
      add_host_reason(
          rep, m,
          sts_reason(
              "sts-dane-disagree",
              fmt::format("DANE authenticates {}, but MTA-STS in enforce mode rejects it ({}): senders that implement "
                          "MTA-STS and not DANE (Gmail, for one) defer mail for it, and so does Postfix with an "
                          "MTA-STS policy map (postfix-mta-sts-resolver), whose policy replaces its DANE check. "
                          "Senders that implement both apply DANE first (RFC 8461 §2) and deliver.",
                          m.host, why),
              std::nullopt, m.host));
    } else if (m.dane == HostDane::failed && sts_ok) {
      add_host_reason(
          rep, m,
          sts_reason(
              "sts-dane-disagree",
              fmt::format("MTA-STS accepts {}, but DANE rejects it: DANE senders defer mail for it, and a sender that "
                          "implements both must not let MTA-STS override the failed DANE check (RFC 8461 §2); "
                          "only senders without DANE deliver.",
                          m.host),
              std::nullopt, m.host));
    }
  }
}

void tlsrpt_part(CheckReport& rep, const StsFacts& f) {
  auto& out = rep.tls_rpt;
  out.checked = true;
  out.dns = status_of(f.rpt_txt);
  if (f.rpt_txt.failed()) {
    rep.reasons.push_back(
        sts_reason("sts-lookup-failed", fmt::format("The TXT lookup at _smtp._tls.{} {}; senders send no TLS reports.",
                                                    rep.domain, lookup_problem(f.rpt_txt))));
    return;
  }
  auto rec = sts::parse_tlsrpt_txt(txt_records(f.rpt_txt));
  out.status = rec.status;
  out.rua = rec.rua;
  out.record = rec.record;
  add_findings(rep, rec.findings);
}

}  // namespace

std::vector<std::string> txt_records(const Answer& a) {
  std::vector<std::string> out;
  if (a.kind != AnswerKind::data) return out;
  for (const auto& rd : a.rdata) {
    std::string s;
    bool ok = true;
    for (std::size_t i = 0; i < rd.size();) {
      std::size_t n = rd[i];
      if (i + 1 + n > rd.size()) {
        ok = false;
        break;
      }
      s.append(reinterpret_cast<const char*>(rd.data()) + i + 1, n);
      i += 1 + n;
    }
    if (ok) out.push_back(std::move(s));
  }
  return out;
}

bool sts_record_allows_fetch(const Answer& sts_txt) {
  if (sts_txt.failed()) return false;
  return sts::parse_sts_txt(txt_records(sts_txt)).status == sts::RecordStatus::valid;
}

void apply_sts(CheckReport& rep, const StsFacts& f) {
  rep.by_sender.dane = rep.delivery;
  if (!f.checked) return;
  rep.mta_sts.checked = true;
  sts::StsRecord record;
  sts::StsPolicy policy;
  record_part(rep, f, record);
  if (record.status == sts::RecordStatus::valid && !f.policy_host.empty()) fetch_part(rep, f, policy);
  tlsrpt_part(rep, f);

  // Per address: the WebPKI judgment of the session an MTA-STS sender has.
  for (auto& m : rep.mx) {
    if (m.sts_sessions.size() != m.addresses.size()) continue;
    for (std::size_t k = 0; k < m.addresses.size(); ++k) {
      m.addresses[k].pkix = m.sts_sessions[k].pkix;
      m.addresses[k].pkix_detail = m.sts_sessions[k].pkix_detail;
    }
  }
  coverage_part(rep);
  disagreement_part(rep);

  if (rep.verdict == Verdict::undetermined) {
    rep.by_sender.mta_sts = rep.by_sender.both = Delivery::unknown;
    return;
  }
  if (rep.mx.empty()) {
    // Decided by the MX lookup: no mail, or a DNSSEC failure a sender
    // without validation would not see (it then is not known what it does).
    Delivery d = rep.verdict == Verdict::dnssec_failure ? Delivery::unknown : rep.delivery;
    rep.by_sender.mta_sts = rep.by_sender.both = d;
    return;
  }
  auto mode = rep.mta_sts.policy_valid ? rep.mta_sts.mode : std::nullopt;
  rep.by_sender.mta_sts = domain_outcome(rep, [&](const MxReport& m) { return sts_host(m, mode); });
  rep.by_sender.both = domain_outcome(rep, [&](const MxReport& m) { return both_host(m, mode); });
}

}  // namespace danekit
