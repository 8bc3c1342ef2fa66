// Keeping TLSA records and keys in step (RFC 7671 §8, RFC 7672 §4): status,
// a timed rollover plan, and a pre-deployment check.
//
// The planner is pure: it takes the published TLSA RRset with its TTL and the
// negative-caching TTL, when each record was first seen, what every address
// serves now, the local current and next keys, and "now", and returns findings
// and steps. Gathering those facts (DNS, probes, the first-seen store) is the
// orchestrator's job (gather_rollover_facts).
//
// "Do these records authenticate this chain?" is answered by authenticate()
// (danekit/authenticate.h), OpenSSL's DANE verification run offline, with the
// MX host and the next-hop domain as reference identifiers and `now` as the
// verification time: the answer `danekit check` gets after a handshake. A bare
// key (no certificate) cannot be handed to OpenSSL; for it the DANE-EE(3)
// SPKI(1) digest comparison stands, which is all OpenSSL checks for such a
// record (RFC 7672 §3.1.1).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "danekit/cert.h"
#include "danekit/dns.h"
#include "danekit/keys.h"
#include "danekit/match.h"
#include "danekit/probe.h"
#include "danekit/resolver.h"
#include "danekit/tlsa.h"

namespace danekit {

struct PublishedRecord {
  TlsaRecord record;
  std::optional<std::int64_t> first_seen;  // seconds since the epoch
};

// The TLSA RRset one authoritative server of the owner's zone serves (asked
// directly, as danekit dnssec does): a sender's resolver may ask any of them.
struct AuthoritativeTlsa {
  std::string name, address;
  std::string failure;  // "" when it answered; else timeout, unreachable, refused, ...
  std::vector<TlsaRecord> records;
};

struct RolloverFacts {
  std::string host;  // MX host
  std::uint16_t port = 25;
  std::string owner;  // _25._tcp.<host>
  std::string zone;   // zone that holds the owner (for updates)
  // Further DANE-TA(2) reference identifiers besides `host` (RFC 7672 §3.2.2):
  // the next-hop domain when the rollover runs for a domain's MX hosts.
  std::vector<std::string> extra_names;
  Security tlsa_security = Security::indeterminate;
  AnswerKind tlsa_kind = AnswerKind::failure;
  std::string tlsa_detail;
  std::uint32_t tlsa_ttl = 0;
  std::uint32_t negative_ttl = 0;  // min(SOA TTL, SOA MINIMUM) of the zone
  std::vector<PublishedRecord> published;
  std::vector<ProbeResult> served;  // one per address, probed with the published usable records
  // Every authoritative server of the zone at `owner`; empty when they could
  // not be found (authoritative_error says why).
  std::vector<AuthoritativeTlsa> authoritative;
  std::string authoritative_error;
  std::optional<KeySource> current;
  std::optional<KeySource> next;
  std::int64_t now = 0;      // also the verification time of every DANE-TA(2) chain
  std::int64_t margin = 60;  // seconds added to every wait
};

// What one published record is, relative to what is served and held.
struct RecordRole {
  TlsaRecord record;
  bool usable = true;
  std::string unusable_reason;
  bool live = false;     // authenticates what at least one address serves now (OpenSSL, this record alone)
  bool current = false;  // authenticates the local current key/certificate
  bool next = false;     // authenticates the local next key/certificate
  std::optional<std::int64_t> first_seen;
  std::string state;  // live | next | current | stale | hidden | unusable
};

struct RolloverStatus {
  std::vector<RecordRole> records;
  std::vector<std::string> addresses_ok;  // authenticate with the published RRset
  std::vector<std::string> addresses_failing;
  bool next_covered = false;                   // a usable record will match the next key
  std::optional<TlsaRecord> missing_for_next;  // what to publish for it
  std::vector<std::string> findings;           // one sentence each
  bool ok = true;                              // every address authenticates and nothing is broken
  // Authoritative servers that answered with a TLSA RRset other than the
  // validated one ("name (address)"): senders asking them see other records.
  std::vector<std::string> servers_differing;
};

// The authoritative servers ("name (address)") that answered without every
// record of `wanted`; servers that did not answer are not counted (a resolver
// moves on to another server).
std::vector<std::string> servers_lacking(const RolloverFacts& f, const std::vector<TlsaRecord>& wanted);

RolloverStatus rollover_status(const RolloverFacts& f);

struct RolloverStep {
  int number = 0;
  std::string title;
  std::string detail;
  std::int64_t earliest = 0;  // seconds since the epoch; 0 = as soon as the previous step is done
  bool done = false;
  std::vector<TlsaRecord> add;     // records to publish in this step
  std::vector<TlsaRecord> remove;  // records to withdraw in this step
};

struct RolloverPlan {
  std::vector<RolloverStep> steps;
  std::string steady_state;  // "3 1 1 current + 3 1 1 next" or "3 1 1 + 2 1 1 issuer"
  std::string why;
  std::int64_t wait_seconds = 0;  // TLSA TTL + negative TTL + margin
};

// Needs f.next. The five steps of RFC 7671 §8.1, each with its earliest time.
RolloverPlan plan_rollover(const RolloverFacts& f);

struct PrecheckResult {
  bool safe = false;
  std::string reason;                     // one line
  std::optional<std::int64_t> safe_from;  // when it becomes safe, if it will
  std::vector<TlsaRecord> matching;       // published records that authenticate the new chain
};

// Would serving `candidate` now break DANE for a sender that cached the
// published RRset? Safe only when a usable published record authenticates the
// candidate (usage rules, digest agility, DANE-TA names and dates), every such
// record has been visible for at least TTL + negative TTL + margin, and every
// authoritative server that answers serves it (a server that lacks it is named).
PrecheckResult precheck_certificate(const RolloverFacts& f, const KeySource& candidate);

struct RolloverOptions {
  ResolverConfig resolver;
  std::string host;  // the MX host
  std::uint16_t port = 25;
  std::vector<std::string> extra_names;  // the next-hop domain (rollover --domain), see RolloverFacts
  std::optional<KeySource> current;
  std::optional<KeySource> next;
  std::int64_t margin = 60;
  std::string state_file;  // empty: default_state_path()
  std::chrono::milliseconds timeout{20000};
  std::int64_t now = 0;  // 0: the real clock
};

// Looks up the TLSA RRset (validated) and the zone's SOA, probes every address
// with the published usable records, and records first-seen times in the state
// file. Errors: set-up problems only (resolver, state file); DNS outcomes are
// facts in the result.
tl::expected<RolloverFacts, std::string> gather_rollover_facts(const RolloverOptions& options);

// The MX hosts of a domain in preference order (the domain itself with no MX).
tl::expected<std::vector<std::string>, std::string> lookup_mx_hosts(const std::string& domain,
                                                                    const ResolverConfig& resolver);

// The record a key calls for: usage 3 (DANE-EE), selector 1, SHA2-256.
TlsaRecord ee_record_for(const KeySource& key);

}  // namespace danekit
