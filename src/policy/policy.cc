// The RFC 7672 ladder. Every decision below cites its rule; every early exit
// records a reason. Failure (bogus, indeterminate) never shares a branch with
// absence (NXDOMAIN, NODATA) or with presence-but-unusable.
#include "danekit/policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <set>

#include "danekit/cert.h"
#include "danekit/match.h"
#include "danekit/special_address.h"
#include "dns/unbound/wire.h"
#include "policy/reasons.h"

namespace danekit {

DnsStatus status_of(const Answer& a) {
  DnsStatus s;
  s.name = a.qname;
  s.type = rrtype_name(a.qtype);
  s.security = a.security;
  s.kind = a.kind;
  s.ttl = a.ttl;
  s.detail = a.detail;
  s.cname_targets = a.cname_targets;
  return s;
}

namespace {

constexpr std::size_t max_mx_hosts = 10;

bool absent(const Answer& a) { return a.kind == AnswerKind::nodata || a.kind == AnswerKind::nxdomain; }

std::string tlsa_owner(const std::string& base) { return "_25._tcp." + base; }

// Which answers gave the host its addresses: the families that did not fail.
struct AddressView {
  std::vector<const Answer*> usable;  // data answers (any security)
  std::vector<const Answer*> failed;  // bogus / indeterminate
  bool all_absent = true;             // every family provably empty
};

AddressView view_addresses(const HostFacts& f) {
  AddressView v;
  for (const auto* a : {f.a ? &*f.a : nullptr, f.aaaa ? &*f.aaaa : nullptr}) {
    if (!a) continue;
    if (a->failed()) {
      v.failed.push_back(a);
      v.all_absent = false;
    } else if (a->kind == AnswerKind::data) {
      v.usable.push_back(a);
      v.all_absent = false;
    }
  }
  return v;
}

// RFC 7672 §2.2.3: the addresses are secure only if every answer that supplied
// addresses validated (including any CNAME chain, which the validator covers).
Security address_security(const AddressView& v) {
  if (v.usable.empty()) return v.failed.empty() ? Security::insecure : v.failed.front()->security;
  for (const auto* a : v.usable)
    if (a->security != Security::secure) return Security::insecure;
  return Security::secure;
}

const std::vector<std::string>* alias_chain(const AddressView& v) {
  for (const auto* a : v.usable)
    if (!a->cname_targets.empty()) return &a->cname_targets;
  return nullptr;
}

// The TLSA base domain candidates in the order RFC 7671 §7 / RFC 7672 §2.2.3
// prefer them: the fully expanded name first, then the original name.
std::vector<std::string> tlsa_candidates(const HostFacts& f) {
  auto v = view_addresses(f);
  if (v.usable.empty()) return {};
  const auto& host = f.target.host;
  const auto* chain = alias_chain(v);
  auto sec = address_security(v);
  if (sec == Security::secure) {
    if (chain && !chain->empty() && chain->back() != host) return {chain->back(), host};
    return {host};
  }
  // Insecure addresses: only an alias whose own CNAME record is secure lets the
  // client look for TLSA records at the original name.
  if (chain && f.cname && f.cname->security == Security::secure && f.cname->kind == AnswerKind::data) return {host};
  return {};
}

// The fix for a chain OpenSSL's own limits refuse (Outcome::policy_rejected).
std::string policy_fix(const std::string& verify_error) {
  auto has = [&](const char* s) { return verify_error.find(s) != std::string::npos; };
  if (has("key too weak"))
    return "Use a larger key: OpenSSL's default security level refuses RSA keys under 2048 bits (and EC keys under "
           "224 bits) in the chain.";
  if (has("digest algorithm too weak"))
    return "Reissue the certificate with a SHA-256 (or stronger) signature: OpenSSL refuses SHA-1 and MD5 "
           "signatures.";
  if (has("critical extension"))
    return "Reissue the certificate without the critical extension OpenSSL does not understand, or mark it "
           "non-critical.";
  if (has("chain too long"))
    return "Send a shorter chain: OpenSSL-based senders verify at most 10 certificates deep (Postfix: "
           "smtp_tls_scert_verifydepth).";
  return "Reissue the certificate chain so that OpenSSL's default verification accepts it.";
}

Reason outcome_reason(const ProbeResult& p, const std::string& host, const std::vector<std::string>& names = {}) {
  const auto& a = p.address;
  switch (p.outcome) {
    case Outcome::mismatch:
      return make_reason("dane-mismatch", Severity::error, "RFC 7672 §2.2",
                         fmt::format("No usable TLSA record matches the certificate chain {} presents{}.", a,
                                     p.verify_error.empty() ? "" : " (" + p.verify_error + ")"),
                         "Publish TLSA records for the key or issuer this server uses, or deploy the certificate "
                         "the records describe.",
                         host, a);
    case Outcome::name_mismatch:
      return make_reason("dane-name-mismatch", Severity::error, "RFC 7672 §3.2.2",
                         fmt::format("A DANE-TA record matches the chain of {}, but the server certificate names "
                                     "none of the reference identifiers ({}); it names {}.",
                                     a, fmt::join(names, ", "),
                                     p.chain.empty() || p.chain[0].dns_names.empty()
                                         ? "no DNS names"
                                         : fmt::format("{}", fmt::join(p.chain[0].dns_names, ", "))),
                         "Issue the certificate with the MX host name as a DNS subjectAltName, or publish a DANE-EE "
                         "(3 1 1) record instead.",
                         host, a);
    case Outcome::expired:
      return make_reason("dane-expired", Severity::error, "RFC 7672 §3.1.2",
                         fmt::format("A DANE-TA record matches the chain of {}, but a certificate in it is outside "
                                     "its validity dates ({}).",
                                     a, p.verify_error),
                         "Renew the certificate; DANE-TA chains are checked for expiry, DANE-EE ones are not.", host,
                         a);
    case Outcome::no_starttls:
      return make_reason(
          "starttls-missing", Severity::error, "RFC 7672 §2.2",
          fmt::format("{} does not offer STARTTLS ({}), but its TLSA records make TLS mandatory.", a, p.detail),
          "Enable STARTTLS on this server (Postfix: smtpd_tls_security_level = may).", host, a);
    case Outcome::tls_failed:
      if (p.failure == "tls-alert")
        return make_reason("tls-alert", Severity::error, "RFC 8446 §6",
                           fmt::format("{} ended the TLS handshake with an alert: {}.", a, p.detail),
                           "The server refused what a sender offers (TLS 1.2 or 1.3, current ciphers and "
                           "signature algorithms); check its TLS protocol and cipher settings and its log.",
                           host, a);
      if (p.failure == "timeout" || p.failure == "reset" || p.failure == "closed")
        return make_reason("tls-handshake-interrupted", Severity::error, "RFC 7672 §2.2",
                           fmt::format("The TLS handshake with {} did not finish: {}.", a, p.detail),
                           "Check that the server can load its certificate and key (Postfix logs why it drops "
                           "the handshake); if it is temporary, check again.",
                           host, a);
      return make_reason("tls-handshake-failed", Severity::error, "RFC 7672 §2.2",
                         fmt::format("The TLS handshake with {} failed: {}.", a, p.detail),
                         "Check the server's TLS configuration and certificate files.", host, a);
    case Outcome::policy_rejected:
      return make_reason("tls-policy-rejected", Severity::error, "RFC 7672 §3.1",
                         fmt::format("A TLSA record matches the chain of {}, but OpenSSL, as DANE senders run it, "
                                     "refuses the chain: {}.",
                                     a, p.verify_error),
                         policy_fix(p.verify_error), host, a);
    case Outcome::unreachable:
      if (p.stage == "connect" && p.failure == "refused")
        return make_reason("connection-refused", Severity::error, "RFC 5321 §5.1",
                           fmt::format("{} refused the connection to port 25: nothing listens there.", a),
                           "Start the mail server on this address, or remove the address from the DNS.", host, a);
      if (p.stage == "connect" && p.failure == "timeout")
        return make_reason("connect-timeout", Severity::error, "RFC 5321 §5.1",
                           fmt::format("No answer to a connection to {} port 25 in time: the host is down or a "
                                       "firewall drops the packets.",
                                       a),
                           "Make sure port 25 is open at this address. If the network danekit runs on blocks "
                           "outgoing port 25, check from another one.",
                           host, a);
      if (p.stage == "connect" && p.failure == "host-unreachable")
        return make_reason("host-unreachable", Severity::error, "RFC 5321 §5.1",
                           fmt::format("No route to {}: a router reports the host unreachable.", a),
                           "Check the address in the DNS and the server's network.", host, a);
      if (p.stage == "starttls")
        return make_reason(
            "starttls-no-answer", Severity::error, "RFC 3207 §4",
            fmt::format("{} offers STARTTLS, but did not answer it ({}); senders defer and retry.", a, p.detail),
            "Check that the server can start TLS (certificate and key files readable, TLS enabled "
            "in its smtpd); its log says why it drops the connection.",
            host, a);
      if (p.stage == "banner" || p.stage == "ehlo")
        return make_reason("smtp-session-failed", Severity::error, "RFC 5321 §4.2",
                           fmt::format("The SMTP session with {} failed before STARTTLS: {}.", a, p.detail),
                           "Check the mail server at this address: it must greet with 220 and answer EHLO.", host, a);
      return make_reason("unreachable", Severity::error, "RFC 5321 §5.1",
                         fmt::format("No SMTP session with {}: {}.", a, p.detail),
                         "Make sure the server listens on port 25 at this address and is reachable.", host, a);
    default: return make_reason("probe-failed", Severity::error, "", fmt::format("{}: {}.", a, p.detail), {}, host, a);
  }
}

// Findings for a host whose usable TLSA records were checked against what its
// addresses served: agility, unmatched records, injection, keys not sent,
// expired DANE-EE certificates, and --days expiry warnings.
void add_dane_findings(MxReport& r, const std::vector<ProbeResult>& results, bool host_auth, bool have_chains,
                       const PolicyContext& ctx) {
  // RFC 7671 §9: a wrong SHA2-512 record hides a right SHA2-256 one.
  for (const auto& f : r.records) {
    if (f.status == RecordStatus::hidden && !f.matches.empty()) {
      r.reasons.push_back(make_reason(
          "digest-agility-hidden", Severity::error, "RFC 7671 §9",
          fmt::format("The record {} matches the server, but senders ignore it because a {} record with the "
                      "same usage and selector is present and does not match.",
                      to_presentation(f.record), mtype_name(mtype::sha512)),
          "Correct or remove the SHA2-512 records, or publish SHA2-256 only.", r.host));
    }
    bool explained_by_agility =
        f.record.mtype == mtype::sha512 && std::any_of(r.records.begin(), r.records.end(), [](const RecordFinding& g) {
          return g.status == RecordStatus::hidden && !g.matches.empty();
        });
    if (f.status == RecordStatus::unmatched && have_chains && !explained_by_agility) {
      r.reasons.push_back(make_reason(
          "tlsa-record-unmatched", host_auth ? Severity::info : Severity::warning, "RFC 7671 §8",
          fmt::format("The record {} matches no address of {}{}.", to_presentation(f.record), r.host,
                      f.note.empty() ? "" : ": " + f.note),
          host_auth ? "Fine if it is the next key of a planned rollover; otherwise remove it." : "", r.host));
    }
  }
  for (const auto& p : results) {
    if (p.plaintext_injection)
      r.reasons.push_back(
          make_reason("starttls-injection", Severity::warning, "RFC 3207 §5",
                      fmt::format("{} sent data after its 220 reply to STARTTLS; it was discarded, but the server (or "
                                  "something in front of it) is open to plaintext command injection.",
                                  p.address),
                      "Update the server software or the middlebox in front of it.", r.host, p.address));
    // RFC 7671 §5.2.3: a DANE-TA key the server does not send works only with
    // clients that take a bare key as the trust anchor (OpenSSL does).
    bool ta_sent = true;
    if (p.outcome == Outcome::verified && p.matched && p.matched->usage == usage::dane_ta) {
      ta_sent = false;
      for (std::size_t d = 1; d < p.chain.size(); ++d)
        if (tlsa_association(p.chain[d], p.matched->selector, p.matched->mtype) == p.matched->data) ta_sent = true;
    }
    if (!ta_sent)
      r.reasons.push_back(make_reason(
          "ta-not-sent", Severity::warning, "RFC 7671 §5.2.3",
          fmt::format("{} authenticates through a DANE-TA key it does not send; senders that need the "
                      "trust-anchor certificate in the chain will fail.",
                      p.address),
          "Send the trust-anchor certificate in the chain (or publish a DANE-EE record).", r.host, p.address));
    // DANE-EE ignores dates (§3.1.1), but an expired leaf is worth knowing about.
    if (p.outcome == Outcome::verified && p.matched && p.matched->usage == usage::dane_ee && !p.chain.empty() &&
        p.chain[0].not_after < ctx.now)
      r.reasons.push_back(
          make_reason("ee-certificate-expired", Severity::info, "RFC 7672 §3.1.1",
                      fmt::format("The certificate of {} has expired; DANE-EE(3) ignores dates, so DANE senders still "
                                  "authenticate it, but other clients will not.",
                                  p.address),
                      "Renew the certificate (keep the key, and the 3 1 1 record stays valid).", r.host, p.address));
  }
  // --days: DANE-TA chains are date-checked, so warn ahead of expiry.
  if (ctx.warn_days > 0) {
    for (const auto& p : results) {
      if (p.outcome != Outcome::verified || !p.matched || p.matched->usage != usage::dane_ta) continue;
      for (std::size_t d = 0; d < p.chain.size(); ++d) {
        auto limit = ctx.now + static_cast<std::int64_t>(ctx.warn_days) * 86400;
        if (p.chain[d].not_after < limit) {
          r.reasons.push_back(
              make_reason("chain-expires-soon", Severity::warning, "RFC 7672 §3.1.2",
                          fmt::format("The certificate at depth {} served by {} expires within {} days; DANE-TA "
                                      "authentication will then fail.",
                                      d, p.address, ctx.warn_days),
                          "Renew the certificate before it expires.", r.host, p.address));
        }
      }
    }
  }
}

bool dane_failure_is_definite(Outcome o) {
  return o == Outcome::mismatch || o == Outcome::name_mismatch || o == Outcome::expired || o == Outcome::no_starttls ||
         o == Outcome::tls_failed || o == Outcome::policy_rejected;
}

}  // namespace

MxPlan plan_mx(const std::string& domain, const Answer& mx) {
  MxPlan p;
  p.mx_security = mx.security;
  // §2.2.1: a failed MX lookup leaves nothing to deliver to; never fall back.
  if (mx.security == Security::bogus) {
    p.stop = true;
    p.verdict = Verdict::dnssec_failure;
    p.delivery = Delivery::deferred;
    p.reasons.push_back(make_reason("mx-bogus", Severity::error, "RFC 7672 §2.2.1",
                                    fmt::format("The MX answer for {} failed DNSSEC validation ({}); DANE senders "
                                                "defer all mail for the domain.",
                                                domain, mx.detail.empty() ? "bogus" : mx.detail),
                                    "Fix the domain's DNSSEC signatures and DS records."));
    return p;
  }
  if (mx.security == Security::indeterminate) {
    p.stop = true;
    p.verdict = Verdict::dnssec_failure;
    p.delivery = Delivery::deferred;
    p.determined = false;
    p.reasons.push_back(make_reason("mx-lookup-failed", Severity::error, "RFC 7672 §2.2.1",
                                    fmt::format("The MX lookup for {} failed ({}); senders defer the mail.", domain,
                                                mx.detail.empty() ? "no answer" : mx.detail),
                                    "Make sure every authoritative server of the domain answers."));
    return p;
  }
  if (mx.kind == AnswerKind::nxdomain) {
    p.stop = true;
    p.verdict = Verdict::no_mail;
    p.delivery = Delivery::undeliverable;
    p.reasons.push_back(make_reason("domain-nxdomain", Severity::error, "RFC 5321 §5.1",
                                    fmt::format("{} does not exist ({} NXDOMAIN).", domain, to_string(mx.security))));
    return p;
  }
  if (mx.security == Security::insecure) {
    p.reasons.push_back(
        make_reason("mx-insecure", Severity::warning, "RFC 7672 §2.2.1",
                    fmt::format("The MX RRset of {} is not DNSSEC-signed: an attacker could replace "
                                "the MX hosts, so DANE protects only what the hosts themselves publish.",
                                domain),
                    "Sign the domain's zone and publish its DS record in the parent zone."));
  }
  if (mx.kind == AnswerKind::nodata) {
    // §2.2.2 / RFC 5321 §5.1: no MX RRset, the domain itself is the host.
    p.hosts.push_back({domain, 0, true});
    p.reasons.push_back(
        make_reason("implicit-mx", Severity::info, "RFC 7672 §2.2.2",
                    fmt::format("{} has no MX records; mail goes to the domain's own addresses.", domain)));
    return p;
  }
  std::vector<MxRdata> records;
  for (const auto& rd : mx.rdata) {
    auto parsed = parse_mx_rdata(rd);
    if (!parsed) {
      p.reasons.push_back(make_reason("mx-malformed", Severity::warning, "RFC 1035 §3.3.9",
                                      "An MX record could not be parsed and was skipped."));
      continue;
    }
    records.push_back(*parsed);
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const MxRdata& a, const MxRdata& b) { return a.preference < b.preference; });
  bool null_mx = records.size() == 1 && records[0].host.empty();
  if (null_mx) {
    p.stop = true;
    p.verdict = Verdict::no_mail;
    p.delivery = Delivery::undeliverable;
    p.reasons.push_back(make_reason("null-mx", Severity::info, "RFC 7505 §3",
                                    fmt::format("{} publishes a null MX: it accepts no mail.", domain)));
    return p;
  }
  std::set<std::string> seen;
  for (const auto& r : records) {
    if (r.host.empty()) {
      p.reasons.push_back(make_reason("null-mx-mixed", Severity::warning, "RFC 7505 §3",
                                      "A null MX record stands beside other MX records; it is ignored.",
                                      "Remove the null MX record, or all the others."));
      continue;
    }
    if (is_root_or_tld(r.host)) {
      p.reasons.push_back(make_reason(
          "mx-invalid-target", Severity::warning, "RFC 7672 §2.2.1",
          fmt::format("MX target '{}' is a top-level name and cannot be a mail host.", r.host), "", r.host));
      continue;
    }
    if (!seen.insert(r.host).second) continue;
    if (p.hosts.size() == max_mx_hosts) {
      p.reasons.push_back(make_reason("mx-truncated", Severity::warning, "",
                                      fmt::format("Only the first {} MX hosts were checked.", max_mx_hosts)));
      break;
    }
    p.hosts.push_back({r.host, r.preference, false});
  }
  if (p.hosts.empty()) {
    p.stop = true;
    p.verdict = Verdict::no_mail;
    p.delivery = Delivery::undeliverable;
    p.reasons.push_back(
        make_reason("mx-no-usable-host", Severity::error, "RFC 5321 §5.1", "No MX record names a usable mail host."));
  }
  return p;
}

bool needs_cname_probe(const HostFacts& f) {
  if (f.cname) return false;
  auto v = view_addresses(f);
  return !v.usable.empty() && address_security(v) != Security::secure && alias_chain(v) != nullptr;
}

// RFC 1035 §2.3.4: a name is at most 255 octets on the wire, which is its
// text form without the final dot plus 2. "_25._tcp.<host>" of a long host
// name cannot exist: a permanent condition, never a lookup to retry.
bool owner_too_long(const std::string& base) { return tlsa_owner(base).size() + 2 > 255; }

std::optional<std::string> next_tlsa_query(const HostFacts& f) {
  auto candidates = tlsa_candidates(f);
  for (std::size_t i = 0; i < f.tlsa.size(); ++i) {
    // Data or a failure settles the question; only a denial moves on.
    if (!absent(f.tlsa[i]) || f.tlsa[i].failed()) return std::nullopt;
  }
  if (f.tlsa.size() < candidates.size() && !owner_too_long(candidates[f.tlsa.size()]))
    return tlsa_owner(candidates[f.tlsa.size()]);
  return std::nullopt;
}

HostPlan plan_host(const std::string& domain, Security mx_security, const HostFacts& f, const PolicyContext& ctx) {
  HostPlan plan;
  auto& r = plan.report;
  const auto& host = f.target.host;
  r.host = host;
  r.preference = f.target.preference;
  r.implicit = f.target.implicit;
  r.tlsa_base = host;
  if (f.a) r.dns.push_back(status_of(*f.a));
  if (f.aaaa) r.dns.push_back(status_of(*f.aaaa));
  if (f.cname) r.dns.push_back(status_of(*f.cname));
  for (const auto& t : f.tlsa) r.dns.push_back(status_of(t));

  auto v = view_addresses(f);
  for (const auto* a : v.usable)
    for (const auto& rd : a->rdata)
      if (auto addr = parse_address_rdata(a->qtype, rd)) plan.addresses.push_back(*addr);
  // IANA special-purpose ranges (docs/special-addresses.md): loopback, private
  // use, documentation ... no sender on the internet reaches such an MX host.
  for (const auto& addr : plan.addresses) {
    if (!ctx.flag_special_addresses) break;
    auto special = classify_special(addr);
    if (!special || !*special || !(*special)->refuse_as_target()) continue;
    const auto& sp = **special;
    const auto& range = sp.embedded_range && !sp.embedding.empty() ? *sp.embedded_range : sp.range;
    r.reasons.push_back(make_reason(
        "address-special-purpose", Severity::warning, "RFC 6890 §2.2",
        fmt::format("{} is in {} ({}{}, {}), which senders on the internet cannot reach.", addr, range.prefix,
                    range.name, sp.embedding.empty() ? "" : fmt::format(" inside an {} address", sp.embedding),
                    range.rfc),
        "Publish the host's public address (or check with --allow-special-addresses in a lab or intranet).", host,
        addr));
  }
  for (const auto* a : v.failed) {
    bool bogus = a->security == Security::bogus;
    r.reasons.push_back(make_reason(
        bogus ? "address-bogus" : "address-lookup-failed", Severity::error, "RFC 7672 §2.2.3",
        fmt::format("The {} lookup for {} {} ({}).", rrtype_name(a->qtype), host,
                    bogus ? "failed DNSSEC validation" : "failed", a->detail.empty() ? "no answer" : a->detail),
        bogus ? "Fix the signatures of the MX host's zone." : "Make sure the MX host's zone answers.", host));
    if (!bogus) plan.determined = v.usable.empty() ? false : plan.determined;
  }
  r.address_security = address_security(v);
  if (const auto* chain = alias_chain(v)) {
    r.is_cname = true;
    r.reasons.push_back(
        make_reason("mx-cname", Severity::warning, "RFC 2181 §10.3",
                    fmt::format("MX host {} is an alias for {}; MX targets should be host names.", host, chain->back()),
                    "Point the MX record at the canonical host name.", host));
  }
  if (v.usable.empty()) {
    if (!v.failed.empty()) {
      r.dane = HostDane::deferred;
      r.address_security = v.failed.front()->security;
      return plan;
    }
    r.dane = HostDane::none;
    r.address_security = Security::insecure;
    bool secure_denial = true;
    for (const auto* a : {f.a ? &*f.a : nullptr, f.aaaa ? &*f.aaaa : nullptr})
      if (a && a->security != Security::secure) secure_denial = false;
    if (secure_denial) r.address_security = Security::secure;
    r.reasons.push_back(make_reason("host-no-address", Severity::error, "RFC 5321 §5.1",
                                    fmt::format("MX host {} has no {} addresses.", host,
                                                ctx.ipv4 && ctx.ipv6 ? "IPv4 or IPv6"
                                                : ctx.ipv4           ? "IPv4"
                                                                     : "IPv6"),
                                    "Publish A or AAAA records for the MX host, or remove it from the MX RRset.",
                                    host));
    return plan;
  }

  auto candidates = tlsa_candidates(f);
  if (candidates.empty()) {
    // §2.2.3: insecure addresses mean no TLSA lookup at all.
    r.dane = HostDane::none;
    r.tlsa_security = Security::insecure;
    r.reasons.push_back(make_reason("address-insecure", Severity::warning, "RFC 7672 §2.2.3",
                                    fmt::format("The addresses of {} are not DNSSEC-signed, so senders do not look "
                                                "for TLSA records: DANE does not apply to this host.",
                                                host),
                                    "Sign the MX host's zone and publish its DS record.", host));
    plan.probe = true;
    plan.mode = ProbeMode::opportunistic;
    return plan;
  }
  if (f.tlsa.empty() && owner_too_long(candidates.front())) {
    // Postfix cannot look the TLSA RRset up and defers; that will not change.
    r.dane = HostDane::deferred;
    r.tlsa_security = Security::indeterminate;
    r.reasons.push_back(make_reason(
        "tlsa-owner-too-long", Severity::error, "RFC 1035 §2.3.4",
        fmt::format("The TLSA owner name {} is longer than 255 octets, so no TLSA RRset can exist there and DANE "
                    "senders cannot finish their lookup: they defer mail for this host, every time.",
                    tlsa_owner(candidates.front())),
        "Use a shorter MX host name (at most 244 characters, so that _25._tcp. fits).", host));
    plan.permanent_failure = true;
    return plan;
  }
  if (f.tlsa.empty()) {
    // The orchestrator did not look (deadline). Report it as undetermined.
    r.dane = HostDane::deferred;
    r.tlsa_security = Security::indeterminate;
    plan.determined = false;
    r.reasons.push_back(make_reason("tlsa-lookup-failed", Severity::error, "RFC 7672 §2.2",
                                    fmt::format("The TLSA lookup for {} did not complete.", host), {}, host));
    return plan;
  }
  const Answer& last = f.tlsa.back();
  r.tlsa_base = candidates[std::min(f.tlsa.size(), candidates.size()) - 1];
  r.tlsa_security = last.security;
  r.tlsa_ttl = last.ttl;

  if (last.failed()) {
    // §2.2: a TLSA lookup error makes the host unusable; it is never "no DANE".
    bool bogus = last.security == Security::bogus;
    r.dane = HostDane::deferred;
    plan.determined = bogus;
    r.reasons.push_back(make_reason(
        bogus ? "tlsa-bogus" : "tlsa-lookup-failed", Severity::error, "RFC 7672 §2.2",
        fmt::format("The TLSA lookup for {} {} ({}); DANE senders skip this host and defer if no other works.",
                    tlsa_owner(r.tlsa_base), bogus ? "failed DNSSEC validation" : "failed",
                    last.detail.empty() ? "no answer" : last.detail),
        bogus ? "Re-sign the zone; make sure every authoritative server serves the signed TLSA RRset."
              : "Make sure every authoritative server answers TLSA queries (with signed denial when there are none).",
        host));
    return plan;
  }
  if (absent(last)) {
    r.dane = HostDane::none;
    r.reasons.push_back(make_reason("tlsa-absent", Severity::info, "RFC 7672 §2.2",
                                    fmt::format("No TLSA records at {} ({} denial): DANE does not apply to {}.",
                                                tlsa_owner(r.tlsa_base), to_string(last.security), host),
                                    "Publish TLSA records, e.g. 3 1 1 of the server key (danekit tlsa generate).",
                                    host));
    plan.probe = true;
    plan.mode = ProbeMode::opportunistic;
    return plan;
  }
  std::vector<TlsaRecord> records;
  for (const auto& rd : last.rdata) {
    if (auto rec = parse_tlsa_wire(rd)) records.push_back(*rec);
  }
  for (const auto& rec : records) {
    RecordFinding rf;
    rf.record = rec;
    set_usability(rf, record_usability(rec));
    if (rf.status != RecordStatus::unusable) rf.status = RecordStatus::unmatched;
    r.records.push_back(rf);
  }
  if (last.security != Security::secure) {
    r.dane = HostDane::none;
    r.reasons.push_back(make_reason("tlsa-insecure", Severity::warning, "RFC 7672 §2.2",
                                    fmt::format("TLSA records exist at {} but are not DNSSEC-signed; senders ignore "
                                                "them.",
                                                tlsa_owner(r.tlsa_base)),
                                    "Sign the zone that holds the TLSA records.", host));
    plan.probe = true;
    plan.mode = ProbeMode::opportunistic;
    return plan;
  }
  for (const auto& rec : records)
    if (usable_for_smtp(rec)) plan.usable.push_back(rec);
  if (records.size() > 12) {
    r.reasons.push_back(make_reason("tlsa-too-many", Severity::warning, "RFC 7671 §8",
                                    fmt::format("The TLSA RRset has {} records; some large receivers reject RRsets "
                                                "this large.",
                                                records.size()),
                                    "Keep the RRset small: current key, next key, and at most an issuer record.",
                                    host));
  }
  plan.probe = true;
  if (plan.usable.empty()) {
    // §2.2 / §3.1.3: present but unusable means mandatory unauthenticated TLS.
    r.dane = HostDane::encrypt_only;
    plan.mode = ProbeMode::encrypt;
    r.reasons.push_back(make_reason("tlsa-unusable", Severity::error, "RFC 7672 §3.1.3",
                                    fmt::format("None of the {} TLSA records at {} is usable for SMTP; senders require "
                                                "TLS but cannot authenticate the server.",
                                                records.size(), tlsa_owner(r.tlsa_base)),
                                    "Publish DANE-EE(3) or DANE-TA(2) records; PKIX usages 0 and 1 are not used "
                                    "for SMTP.",
                                    host));
    return plan;
  }
  plan.mode = ProbeMode::dane;
  r.dane = HostDane::failed;  // until a probe authenticates
  // §3.2.2: DANE-TA reference identifiers beyond the TLSA base domain.
  if (r.tlsa_base != host) plan.extra_names.push_back(host);
  // Postfix matches the next-hop domain whatever the MX RRset's security
  // (logging "Trusted" rather than "Verified" when the MX RRset is insecure);
  // danekit reports what that sender does and flags the insecure case
  // (ta-nexthop-insecure-mx) where a strict reading of §3.2.2 would not accept it.
  (void)mx_security;
  if (!f.target.implicit && domain != r.tlsa_base && domain != host) plan.extra_names.push_back(domain);
  return plan;
}

CheckReport decide(const std::string& domain, const Answer& mx_answer, const MxPlan& mx, std::vector<HostPlan> plans,
                   std::vector<std::vector<ProbeResult>> probes, const PolicyContext& ctx) {
  CheckReport rep;
  rep.domain = domain;
  rep.mx_answer = status_of(mx_answer);
  rep.checked_at = ctx.now;
  rep.reasons = mx.reasons;
  if (mx.stop) {
    rep.verdict = mx.verdict;
    rep.delivery = mx.delivery;
    rep.determined = mx.determined;
    return rep;
  }
  probes.resize(plans.size());

  bool any_dane = false, any_auth = false, all_full = true, any_deferred = false, any_bogus = false;
  bool any_encrypt = false, any_none = false, definite_failure = false, any_undetermined = false;
  std::optional<Delivery> delivery;

  for (std::size_t i = 0; i < plans.size(); ++i) {
    auto& plan = plans[i];
    auto& r = plan.report;
    auto& results = probes[i];
    if (!plan.probe) {
      results.clear();
      for (const auto& a : plan.addresses) {
        ProbeResult p;
        p.address = a;
        p.outcome = Outcome::not_checked;
        p.detail = "a DANE sender does not connect to this host";
        results.push_back(p);
      }
    }
    r.addresses = results;

    std::vector<ServedChain> chains;
    for (const auto& p : results) {
      if (!p.chain.empty()) chains.push_back({p.address, p.chain});
      if (p.alternate) chains.push_back({p.address, p.alternate->chain});
    }
    std::vector<TlsaRecord> recs;
    for (const auto& f : r.records) recs.push_back(f.record);
    if (!recs.empty()) {
      r.records = analyze_records(recs, chains);
      // OpenSSL may match a trust anchor the server did not send (a full "2 0 0"
      // or "2 1 0" record signing the top of the chain): take its word for it.
      for (const auto& p : results) {
        if (p.outcome != Outcome::verified || !p.matched) continue;
        for (auto& f : r.records) {
          if (!(f.record == *p.matched)) continue;
          bool known = std::any_of(f.matches.begin(), f.matches.end(),
                                   [&](const RecordMatch& m) { return m.address == p.address; });
          if (!known) {
            f.matches.push_back({p.address, p.match_depth, p.chain.empty() ? "" : p.chain.front().key_type});
            if (f.note.empty() && f.record.usage == usage::dane_ta)
              f.note =
                  "the trust anchor is not in the served chain; OpenSSL checked the chain's top signature "
                  "with this key";
          }
          if (f.status == RecordStatus::unmatched) f.status = RecordStatus::matched;
        }
      }
    }

    if (r.dane == HostDane::deferred && plan.permanent_failure) {
      any_dane = true;
      definite_failure = true;
      all_full = false;
      continue;
    }
    if (r.dane == HostDane::deferred) {
      any_deferred = true;
      if (r.tlsa_security == Security::bogus || r.address_security == Security::bogus) any_bogus = true;
      if (!plan.determined) any_undetermined = true;
      all_full = false;
      continue;
    }
    if (plan.mode == ProbeMode::dane && plan.probe) {
      any_dane = true;
      bool host_auth = false;
      for (const auto& p : results) {
        if (p.outcome == Outcome::verified) {
          host_auth = true;
        } else {
          all_full = false;
          std::vector<std::string> names{r.tlsa_base};
          names.insert(names.end(), plan.extra_names.begin(), plan.extra_names.end());
          r.reasons.push_back(outcome_reason(p, r.host, names));
          if (dane_failure_is_definite(p.outcome)) definite_failure = true;
        }
      }
      if (results.empty()) all_full = false;
      for (const auto& p : results) {
        if (!p.alternate || (p.outcome == Outcome::verified) == (p.alternate->outcome == Outcome::verified)) continue;
        const auto& alt = *p.alternate;
        std::string alt_type = alt.chain.front().key_type, main_type = p.chain.front().key_type;
        std::string offer = alt.offer == "rsa" ? "RSA" : "ECDSA";
        bool main_ok = p.outcome == Outcome::verified;
        r.reasons.push_back(make_reason(
            "dual-cert-one-covered", Severity::warning, "RFC 7671 §8",
            main_ok ? fmt::format("{} holds two certificates: the TLSA records match the {} one it serves by "
                                  "default, not the {} one it serves to senders that offer only {} signature "
                                  "algorithms ({}); those senders defer.",
                                  p.address, main_type, alt_type, offer, to_string(alt.outcome))
                    : fmt::format("{} holds two certificates: the TLSA records match only the {} one it serves to "
                                  "senders that offer only {} signature algorithms, not the {} one it serves by "
                                  "default.",
                                  p.address, alt_type, offer, main_type),
            "Publish a TLSA record for the other certificate's key too (danekit tlsa generate), or serve one "
            "certificate.",
            r.host, p.address));
      }
      for (const auto& p : results) {
        if (p.outcome != Outcome::verified || p.matched_name != domain || mx.mx_security == Security::secure ||
            domain == r.tlsa_base || domain == r.host)
          continue;
        r.reasons.push_back(make_reason(
            "ta-nexthop-insecure-mx", Severity::warning, "RFC 7672 §3.2.2",
            fmt::format("{} authenticates only through the next-hop name {}, which its DANE-TA certificate names, "
                        "while the MX RRset is not signed. Postfix accepts this (\"Trusted\" TLS); a strict "
                        "reading of RFC 7672 §3.2.2 takes the next-hop name only from a secure MX RRset, and "
                        "such a sender would defer.",
                        p.address, domain),
            fmt::format("Add {} to the certificate's subjectAltName, or sign the zone of {}.", r.host, domain), r.host,
            p.address));
        break;
      }
      r.dane = host_auth ? HostDane::authenticated : HostDane::failed;
      if (host_auth) any_auth = true;
      add_dane_findings(r, results, host_auth, !chains.empty(), ctx);
      if (host_auth && !delivery) delivery = Delivery::authenticated;
      continue;
    }
    all_full = false;
    if (plan.mode == ProbeMode::encrypt) {
      any_encrypt = true;
      bool ok = false;
      for (const auto& p : results) {
        if (p.outcome == Outcome::encrypted)
          ok = true;
        else
          r.reasons.push_back(outcome_reason(p, r.host));
      }
      if (ok && !delivery) delivery = Delivery::encrypted;
      continue;
    }
    // No DANE for this host: ordinary opportunistic TLS or plaintext.
    if (plan.probe) any_none = true;  // a host without addresses is not a "no DANE" host
    bool reachable = std::any_of(results.begin(), results.end(), [](const ProbeResult& p) {
      return p.outcome != Outcome::unreachable && p.outcome != Outcome::not_checked;
    });
    if (reachable && !delivery) delivery = Delivery::opportunistic;
  }

  // Hosts are tried in preference order and the first that works decides, which
  // is what the loop above recorded. Under the "may" policy for an insecure MX
  // RRset (Postfix smtp_tls_dane_insecure_mx_policy) TLSA records are not used.
  if (mx.mx_security == Security::insecure && ctx.insecure_mx == InsecureMxPolicy::may) {
    delivery.reset();
    for (const auto& plan : plans) {
      const auto& r = plan.report;
      if (r.dane == HostDane::deferred) continue;
      bool reachable = std::any_of(r.addresses.begin(), r.addresses.end(), [](const ProbeResult& p) {
        return p.outcome != Outcome::unreachable && p.outcome != Outcome::not_checked;
      });
      if (reachable) {
        delivery = r.dane == HostDane::encrypt_only ? Delivery::encrypted : Delivery::opportunistic;
        break;
      }
    }
  }
  // Every host provably without addresses is a permanent failure (Postfix
  // bounces "Host not found"), not a deferral.
  bool all_hosts_missing = !plans.empty() && std::all_of(plans.begin(), plans.end(), [](const HostPlan& p) {
    return p.addresses.empty() && p.report.dane == HostDane::none && p.determined;
  });
  rep.delivery = delivery.value_or(all_hosts_missing ? Delivery::undeliverable : Delivery::deferred);

  if (any_dane && any_none) {
    rep.reasons.push_back(make_reason("mixed-dane", Severity::warning, "RFC 7672 §2.2",
                                      "Some MX hosts have DANE and others do not; an attacker who blocks the DANE "
                                      "hosts can steer mail to the others.",
                                      "Publish TLSA records for every MX host."));
  }

  if (!any_dane) {
    if (any_deferred) {
      rep.verdict = Verdict::dnssec_failure;
      rep.determined = any_bogus || !any_undetermined;
    } else if (any_encrypt) {
      rep.verdict = Verdict::unusable;
    } else {
      rep.verdict = Verdict::none;
    }
  } else if (!any_auth) {
    if (any_deferred && !definite_failure) {
      rep.verdict = Verdict::dnssec_failure;
      rep.determined = any_bogus || !any_undetermined;
    } else {
      rep.verdict = Verdict::invalid;
      rep.determined = definite_failure;
    }
  } else if (all_full && mx.mx_security == Security::secure && !any_none && !any_encrypt && !any_deferred) {
    rep.verdict = Verdict::valid;
  } else {
    rep.verdict = Verdict::partial;
  }

  for (auto& plan : plans) {
    rep.reasons.insert(rep.reasons.end(), plan.report.reasons.begin(), plan.report.reasons.end());
    rep.mx.push_back(std::move(plan.report));
  }
  return rep;
}

int exit_status_for(const CheckReport& r) {
  if (r.verdict == Verdict::valid) return exit_status::valid;
  if (r.verdict == Verdict::none || r.verdict == Verdict::no_mail) return exit_status::no_dane;
  if (!r.determined) return exit_status::undetermined;
  return exit_status::dane_problem;
}

}  // namespace danekit
