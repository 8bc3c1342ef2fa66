// The rollover planner (RFC 7671 §8.1, RFC 7672 §4): pure functions of facts.
//
// Whether records authenticate a chain is asked of authenticate(), OpenSSL's
// DANE verification run offline, rather than worked out here. authenticate() is
// a pure function of its inputs (chain, records, reference identifiers, time),
// declared without OpenSSL types, so calling it keeps the planner free of I/O
// and clocks: the time is f.now, passed in. Precomputing its answers in
// gather_rollover_facts() instead would make the front end know every question
// the planner asks (each record against each served chain, the current, next
// and candidate chains), and the planner's tests would feed it OpenSSL's answers
// rather than have OpenSSL give them.
#include <fmt/format.h>
#include <algorithm>

#include "danekit/authenticate.h"
#include "danekit/rollover.h"
#include "danekit/tlsa_generate.h"

namespace danekit {

namespace {

DaneContext context_of(const RolloverFacts& f) { return {f.host, f.extra_names, f.now > 0 ? f.now : 1}; }

std::int64_t wait_of(const RolloverFacts& f) {
  return static_cast<std::int64_t>(f.tlsa_ttl) + f.negative_ttl + f.margin;
}

// The records a sender hands to OpenSSL: usable for SMTP and loadable by it.
std::vector<TlsaRecord> usable_records(const RolloverFacts& f) {
  std::vector<TlsaRecord> all;
  for (const auto& p : f.published) all.push_back(p.record);
  return records_for_openssl(all);
}

// The records a sender actually uses: usable and not hidden by agility.
std::vector<TlsaRecord> effective_records(const RolloverFacts& f) {
  auto usable = usable_records(f);
  auto hidden = hidden_by_agility(usable);
  std::vector<TlsaRecord> out;
  for (const auto& r : usable)
    if (std::find(hidden.begin(), hidden.end(), r) == hidden.end()) out.push_back(r);
  return out;
}

std::optional<std::int64_t> first_seen_of(const RolloverFacts& f, const TlsaRecord& r) {
  for (const auto& p : f.published)
    if (p.record == r) return p.first_seen;
  return std::nullopt;
}

// Do these records authenticate this key or chain? With a certificate chain,
// OpenSSL says (usage rules, digest agility, and for DANE-TA(2) signatures,
// names and dates at f.now). A bare key has no certificate to give OpenSSL; a
// DANE-EE(3) SPKI(1) record is then compared here, which is all OpenSSL would
// check (RFC 7672 §3.1.1: no names, no dates), after the same agility rule.
Authentication authenticate_key(const std::vector<TlsaRecord>& records, const KeySource& k, const RolloverFacts& f) {
  auto ctx = context_of(f);
  if (!k.chain.empty()) return authenticate(k.chain, records, ctx.base, ctx.extra_names, ctx.at);
  Authentication a;
  a.outcome = Outcome::mismatch;
  a.detail = "no DANE-EE(3) SPKI(1) record matches the key (a bare key can be matched by no other kind)";
  auto hidden = hidden_by_agility(records);
  for (const auto& r : records) {
    if (!usable_for_smtp(r)) continue;
    ++a.accepted;
    if (std::find(hidden.begin(), hidden.end(), r) != hidden.end()) continue;
    if (r.usage == usage::dane_ee && r.selector == selector::spki && tlsa_digest(r.mtype, k.spki) == r.data) {
      a.outcome = Outcome::verified;
      a.depth = 0;
      a.matched = r;
      a.detail = fmt::format("matched {} at depth 0", describe_parameters(r));
      break;
    }
  }
  return a;
}

// This record alone, under its own usage rules.
bool record_covers(const TlsaRecord& r, const KeySource& k, const RolloverFacts& f) {
  return usable_for_smtp(r) && authenticate_key({r}, k, f).outcome == Outcome::verified;
}

std::vector<ServedChain> served_chains(const RolloverFacts& f) {
  std::vector<ServedChain> out;
  for (const auto& p : f.served)
    if (!p.chain.empty()) out.push_back({p.address, p.chain});
  return out;
}

// The record to publish for a new key: DANE-EE SPKI with SHA2-256, unless a
// SHA2-512 DANE-EE SPKI record is present, which would hide it (RFC 7671 §9).
TlsaRecord record_for_next(const RolloverFacts& f, const KeySource& key) {
  TlsaRecord r = ee_record_for(key);
  for (const auto& u : usable_records(f))
    if (u.usage == usage::dane_ee && u.selector == selector::spki && u.mtype == mtype::sha512) {
      r.mtype = mtype::sha512;
      r.data = tlsa_digest(mtype::sha512, key.spki);
    }
  return r;
}

bool serves_key(const ProbeResult& p, const KeySource& k) {
  return !p.chain.empty() && same_public_key(p.chain[0].spki_der, k.spki);
}

}  // namespace

std::vector<std::string> servers_lacking(const RolloverFacts& f, const std::vector<TlsaRecord>& wanted) {
  std::vector<std::string> out;
  for (const auto& s : f.authoritative) {
    if (!s.failure.empty()) continue;
    bool all = std::all_of(wanted.begin(), wanted.end(), [&](const TlsaRecord& w) {
      return std::find(s.records.begin(), s.records.end(), w) != s.records.end();
    });
    if (!all) out.push_back(fmt::format("{} ({})", s.name, s.address));
  }
  return out;
}

TlsaRecord ee_record_for(const KeySource& key) {
  return TlsaRecord{usage::dane_ee, selector::spki, mtype::sha256, tlsa_digest(mtype::sha256, key.spki)};
}

RolloverStatus rollover_status(const RolloverFacts& f) {
  RolloverStatus s;
  std::vector<TlsaRecord> all;
  for (const auto& p : f.published) all.push_back(p.record);
  auto findings = explain_records(all, served_chains(f), context_of(f));
  for (std::size_t i = 0; i < f.published.size(); ++i) {
    RecordRole role;
    role.record = f.published[i].record;
    role.first_seen = f.published[i].first_seen;
    const auto& why = findings[i].unusable;  // RFC 7672 §3.1.3, or OpenSSL cannot load it
    role.usable = !why;
    role.unusable_reason = why.value_or("");
    role.live = findings[i].status == RecordStatus::matched || (!findings[i].matches.empty() && role.usable);
    role.current = role.usable && f.current && record_covers(role.record, *f.current, f);
    role.next = role.usable && f.next && record_covers(role.record, *f.next, f);
    if (!role.usable)
      role.state = "unusable";
    else if (findings[i].status == RecordStatus::hidden)
      role.state = "hidden";
    else if (role.live)
      role.state = "live";
    else if (role.next)
      role.state = "next";
    else if (role.current)
      role.state = "current";
    else if (findings[i].status == RecordStatus::rejected)
      role.state = "rejected";
    else
      role.state = "stale";
    if (findings[i].status == RecordStatus::hidden)
      s.findings.push_back(
          fmt::format("{} is ignored by senders: a SHA2-512 record with the same usage and selector "
                      "is present (RFC 7671 §9)",
                      to_presentation(role.record)));
    if (role.state == "rejected")
      s.findings.push_back(
          fmt::format("{} does not authenticate what is served: {}", to_presentation(role.record), findings[i].note));
    if (role.state == "stale")
      s.findings.push_back(
          fmt::format("{} matches nothing served or held: stale, withdraw it", to_presentation(role.record)));
    s.records.push_back(role);
  }
  for (const auto& p : f.served) {
    if (p.outcome == Outcome::verified) {
      s.addresses_ok.push_back(p.address);
    } else {
      s.addresses_failing.push_back(p.address);
      s.findings.push_back(fmt::format("{} does not authenticate with the published records: {} ({})", p.address,
                                       to_string(p.outcome), p.detail));
    }
  }
  if (f.tlsa_security != Security::secure || f.tlsa_kind != AnswerKind::data) {
    s.findings.push_back(fmt::format("the TLSA RRset at {} is {} {}{}", f.owner, to_string(f.tlsa_security),
                                     to_string(f.tlsa_kind), f.tlsa_detail.empty() ? "" : " (" + f.tlsa_detail + ")"));
    s.ok = false;
  }
  if (f.next) {
    auto a = authenticate_key(usable_records(f), *f.next, f);
    s.next_covered = a.outcome == Outcome::verified;
    if (!s.next_covered) {
      s.missing_for_next = record_for_next(f, *f.next);
      std::string openssl = a.outcome == Outcome::mismatch ? "" : fmt::format(" (OpenSSL: {})", a.detail);
      s.findings.push_back(fmt::format("no published record authenticates the next key ({}){}: publish {}",
                                       f.next->name, openssl, to_presentation(*s.missing_for_next)));
    }
  }
  // What a sender's resolver may get instead: every authoritative server's
  // copy against the validated RRset.
  if (f.tlsa_security == Security::secure) {
    std::vector<TlsaRecord> published;
    for (const auto& p : f.published) published.push_back(p.record);
    for (const auto& a : f.authoritative) {
      std::string who = fmt::format("{} ({})", a.name, a.address);
      if (!a.failure.empty()) {
        s.findings.push_back(
            fmt::format("authoritative server {} did not answer for {} ({})", who, f.owner, a.failure));
        continue;
      }
      bool same = a.records.size() == published.size() &&
                  std::all_of(published.begin(), published.end(), [&](const TlsaRecord& r) {
                    return std::find(a.records.begin(), a.records.end(), r) != a.records.end();
                  });
      if (same) continue;
      s.servers_differing.push_back(who);
      std::vector<std::string> texts;
      for (const auto& r : a.records) texts.push_back(to_presentation(r));
      s.findings.push_back(
          fmt::format("authoritative server {} serves a different TLSA RRset at {}: {}", who, f.owner,
                      texts.empty() ? std::string("none") : fmt::format("{}", fmt::join(texts, "; "))));
    }
    if (!f.authoritative_error.empty())
      s.findings.push_back("the authoritative servers could not be asked: " + f.authoritative_error);
  }
  if (!s.addresses_failing.empty() || f.served.empty() || !s.servers_differing.empty()) s.ok = false;
  return s;
}

RolloverPlan plan_rollover(const RolloverFacts& f) {
  RolloverPlan plan;
  plan.wait_seconds = wait_of(f);
  auto status = rollover_status(f);
  const KeySource& next = *f.next;

  // Step 1: publish records for the next key beside the current ones.
  RolloverStep publish{1, "Publish the TLSA record for the next key", {}, f.now, status.next_covered, {}, {}};
  std::optional<std::int64_t> visible_since;
  if (status.next_covered) {
    for (const auto& r : effective_records(f)) {
      if (!record_covers(r, next, f)) continue;
      auto seen = first_seen_of(f, r).value_or(f.now);
      visible_since = visible_since ? std::min(*visible_since, seen) : seen;
    }
    publish.detail = fmt::format("Already published; first seen {}.", iso8601(*visible_since));
  } else {
    publish.add.push_back(*status.missing_for_next);
    publish.detail = fmt::format("Add {} to {} next to the current records; keep the current ones.",
                                 to_presentation(*status.missing_for_next), f.owner);
  }
  std::int64_t deploy_at = (visible_since ? *visible_since : f.now) + plan.wait_seconds;

  // Step 2: wait until no sender can hold an RRset without the new record.
  // The wait counts only once every authoritative server serves the new
  // record: a resolver that asks a lagging secondary caches the old RRset.
  std::vector<TlsaRecord> for_next;
  for (const auto& r : effective_records(f))
    if (record_covers(r, next, f)) for_next.push_back(r);
  auto lacking = status.next_covered ? servers_lacking(f, for_next) : std::vector<std::string>{};
  RolloverStep wait{
      2, "Wait for caches to expire", {}, deploy_at, f.now >= deploy_at && status.next_covered && lacking.empty(), {},
      {}};
  wait.detail = fmt::format(
      "At least TLSA TTL {} s + negative-cache TTL {} s + margin {} s = {} s after the new record was first "
      "published{}.",
      f.tlsa_ttl, f.negative_ttl, f.margin, plan.wait_seconds,
      visible_since ? fmt::format(" (until {})", iso8601(deploy_at)) : "");
  if (!lacking.empty())
    wait.detail += fmt::format(
        " Not every authoritative server serves it yet: {} lack{} it; the wait starts when "
        "they do.",
        fmt::join(lacking, ", "), lacking.size() == 1 ? "s" : "");

  // Step 3: deploy the new certificate on every address.
  bool all_serve_next = !f.served.empty() && std::all_of(f.served.begin(), f.served.end(),
                                                         [&](const ProbeResult& p) { return serves_key(p, next); });
  RolloverStep deploy{3, "Deploy the new certificate on every address", {}, deploy_at, all_serve_next, {}, {}};
  deploy.detail = fmt::format(
      "Install the certificate for {} on every address of {} ({}); `danekit rollover "
      "precheck --cert NEW` confirms it is safe first.",
      next.name, f.host, f.served.size());

  // Step 4: verify every address.
  bool all_verified = all_serve_next && std::all_of(f.served.begin(), f.served.end(), [](const ProbeResult& p) {
                        return p.outcome == Outcome::verified;
                      });
  RolloverStep verify{4,
                      "Verify every address",
                      "Run `danekit check` (or `danekit rollover status`): every address "
                      "must authenticate with the new key.",
                      0,
                      all_verified,
                      {},
                      {}};

  // Step 5: withdraw the records that only match the old key.
  RolloverStep withdraw{5, "Withdraw the old records", {}, 0, false, {}, {}};
  for (const auto& role : status.records) {
    bool old = role.current || (!f.current && role.live && !role.next);
    if (role.usable && old && !role.next) withdraw.remove.push_back(role.record);
  }
  withdraw.done = withdraw.remove.empty() && all_verified;
  withdraw.detail = withdraw.remove.empty()
                        ? std::string("Nothing left that matches only the old key.")
                        : fmt::format(
                              "Remove {} record(s) once every address serves the new key; no wait is needed "
                              "for removal.",
                              withdraw.remove.size());
  plan.steps = {publish, wait, deploy, verify, withdraw};

  bool has_issuer_record = std::any_of(status.records.begin(), status.records.end(), [](const RecordRole& r) {
    return r.usable && r.record.usage == usage::dane_ta && (r.live || r.current || r.next);
  });
  if (has_issuer_record) {
    plan.steady_state = "3 1 1 + 2 1 1 issuer";
    plan.why =
        "Your RRset already pins the issuing CA: a renewal from the same intermediate works at once, but it breaks "
        "when the CA changes intermediates, and the certificate must name the MX host. Keep a 3 1 1 for the current "
        "key beside it.";
  } else {
    plan.steady_state = "3 1 1 current + 3 1 1 next";
    plan.why =
        "Pinning your own keys does not depend on the CA's intermediates (which CAs rotate) or on names and dates "
        "(DANE-EE checks neither). Generate the next key ahead of time (danekit rollover next-key), keep its record "
        "published, and renew with that key.";
  }
  return plan;
}

PrecheckResult precheck_certificate(const RolloverFacts& f, const KeySource& candidate) {
  PrecheckResult out;
  if (f.tlsa_security != Security::secure || f.tlsa_kind != AnswerKind::data) {
    out.reason = fmt::format("the TLSA RRset at {} is {} {}: cannot tell what senders will accept", f.owner,
                             to_string(f.tlsa_security), to_string(f.tlsa_kind));
    return out;
  }
  // OpenSSL's verdict on the whole RRset decides; the records that authenticate
  // the candidate on their own say since when it has been safe.
  auto a = authenticate_key(usable_records(f), candidate, f);
  if (a.outcome != Outcome::verified) {
    bool hidden = false;
    for (const auto& r : usable_records(f))
      if (record_covers(r, candidate, f)) hidden = true;
    if (hidden)
      out.reason = fmt::format(
          "a record for {} is published but hidden by a SHA2-512 record (RFC 7671 §9); senders would reject it",
          candidate.name);
    else if (a.outcome != Outcome::mismatch)
      out.reason = fmt::format("the published TLSA records at {} do not authenticate {}: OpenSSL says {} ({})", f.owner,
                               candidate.name, to_string(a.outcome), a.detail);
    else
      out.reason = fmt::format("no published TLSA record at {} matches {}; publish {} and wait {} s first", f.owner,
                               candidate.name, to_presentation(record_for_next(f, candidate)), wait_of(f));
    return out;
  }
  for (const auto& r : effective_records(f))
    if (record_covers(r, candidate, f)) out.matching.push_back(r);
  if (a.matched && std::find(out.matching.begin(), out.matching.end(), *a.matched) == out.matching.end())
    out.matching.push_back(*a.matched);
  // Already in service and authenticating everywhere: deploying it changes nothing.
  bool in_service = !f.served.empty() && std::all_of(f.served.begin(), f.served.end(), [&](const ProbeResult& p) {
    return p.outcome == Outcome::verified && serves_key(p, candidate);
  });
  if (in_service) {
    out.safe = true;
    out.reason = fmt::format("{} is already served by every address and authenticates", candidate.name);
    return out;
  }
  // Every authoritative server must serve it, not only the one the resolver asked.
  if (auto lacking = servers_lacking(f, out.matching); !lacking.empty()) {
    out.reason = fmt::format(
        "the record matching {} is not on every authoritative server of {}: {} lack{} it (a sender's resolver "
        "asking {} gets the old RRset); bring {} up to date first",
        candidate.name, f.owner, fmt::join(lacking, ", "), lacking.size() == 1 ? "s" : "",
        lacking.size() == 1 ? "it" : "them", lacking.size() == 1 ? "it" : "them");
    return out;
  }
  std::int64_t from = INT64_MAX;
  for (const auto& r : out.matching) from = std::min(from, first_seen_of(f, r).value_or(f.now) + wait_of(f));
  out.safe_from = from;
  if (f.now >= from) {
    out.safe = true;
    out.reason = fmt::format("{} matches {} published since before every cache could have expired", candidate.name,
                             to_presentation(out.matching.front()));
  } else {
    out.reason = fmt::format(
        "the record matching {} is too new: senders may still cache the old RRset until {} "
        "({} s from now)",
        candidate.name, iso8601(from), from - f.now);
  }
  return out;
}

}  // namespace danekit
