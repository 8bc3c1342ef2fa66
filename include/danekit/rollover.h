// Keeping TLSA records and keys in step (RFC 7671 §8, RFC 7672 §4): status,
// a timed rollover plan, a pre-deployment check, and the deployment of staged
// certificates once that check passes.
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
#include <string_view>
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

// ---- The precheck over one or more MX hosts (rollover precheck, rollover deploy)

struct HostPrecheck {
  std::string host, owner;
  PrecheckResult result;
  // False when the answer rests on a failure on our side: the TLSA lookup was
  // indeterminate, or the facts could not be gathered (`error` says why).
  bool determined = true;
  std::string error;
};

struct PrecheckRun {
  std::string certificate;  // the candidate's name ("--cert FILE")
  std::string spki_sha256;  // of its leaf
  std::vector<HostPrecheck> hosts;
  bool safe() const;  // every host safe (and at least one host)
};

// Gathers the facts for every host (options.host is replaced by each) and
// prechecks `candidate` against them. Never fails: a host whose facts cannot
// be gathered is undetermined, with the reason.
PrecheckRun precheck_hosts(const RolloverOptions& options, const std::vector<std::string>& hosts,
                           const KeySource& candidate);

// 0 safe on every host; 1 refused (a host's published records do not yet
// allow it); 3 undetermined (DNS or our side failed), which wins over 1.
int exit_status_for(const PrecheckRun& run);

// ---- Staged certificates (docs/rollover.md "Deploying with a staged certificate")
//
// A deploy hook (certbot, acme.sh) does not install a renewed certificate: it
// stages it, and `rollover deploy` installs it once the precheck passes, on the
// hook's own run or on a later run of the systemd timer. The staging directory
// holds one entry per certificate, a directory NAME with three files:
//   fullchain.pem   the new chain, leaf first
//   privkey.pem     its private key (mode 0600)
//   deploy.conf     the metadata below
// Entries are written under a temporary name beginning with "." and renamed
// into place, so a reader never sees half an entry; names beginning with "."
// are not entries. Every run holds an exclusive flock(2) on the staging
// directory itself while it reads or changes it (flock(1) takes the same lock).

// deploy.conf: "format = danekit-staged/1" on the first line, then one
// "key = value" per line (a value runs to the end of its line, blanks around
// it trimmed; "#" starts a comment line). Keys:
//   host = MX host          | domain = DOMAIN (every MX host of it)   one of them
//   port = 25                                                         optional
//   key_target = PATH, chain_target = PATH   and/or  combined_target = PATH
//   reload = COMMAND        run by /bin/sh -c after installing         optional
//   reload_timeout = SECONDS  1-600, default 60                        optional
// Unknown or repeated keys, relative or non-canonical paths and control
// characters are errors: the file names what a root process runs and writes.
struct StagedMetadata {
  std::string host;    // normalized; empty when `domain` is given
  std::string domain;  // normalized; empty when `host` is given
  std::uint16_t port = 25;
  std::string key_target, chain_target;  // absolute; both or neither
  std::string combined_target;           // absolute; key then chain in one file (smtpd_tls_chain_files)
  std::string reload;                    // empty: nothing is run
  int reload_timeout = 60;
};

inline constexpr std::string_view kStagedFormat = "danekit-staged/1";
inline constexpr std::size_t kMaxStagedMetadataBytes = 16 * 1024;
inline constexpr std::size_t kMaxStagedEntries = 64;

// Pure. Errors read "line N: reason" (or a reason about the whole file).
tl::expected<StagedMetadata, std::string> parse_staged_metadata(std::string_view text);
// The text parse_staged_metadata reads back; the metadata must be valid.
std::string format_staged_metadata(const StagedMetadata& m);
// The first fault of metadata built by a caller (what parse checks); "" if none.
std::string staged_metadata_error(const StagedMetadata& m);
// A valid entry name: 1-100 of [A-Za-z0-9._-], not starting with "." .
bool valid_staged_name(std::string_view name);

// Exit statuses of `rollover stage` and `rollover deploy` (docs/cli.md).
namespace deploy_status {
inline constexpr int done = 0;             // deployed, staged, or nothing staged
inline constexpr int refused = 1;          // the precheck refuses it now: try later
inline constexpr int undetermined = 3;     // DNS or a probe failed on our side
inline constexpr int usage = 64;           // bad option
inline constexpr int bad_staging = 65;     // malformed or unsafe staging data
inline constexpr int internal = 70;        // a bug
inline constexpr int install_failed = 73;  // a target could not be written (nothing replaced)
inline constexpr int reload_failed = 74;   // installed, but the reload command failed or timed out
inline constexpr int locked = 75;          // another run holds the staging directory's lock
}  // namespace deploy_status

struct StageRequest {
  std::string staged_dir;
  std::string name;  // entry name
  std::string cert_file, key_file;
  StagedMetadata meta;
  int lock_wait = 60;  // seconds to wait for the lock
};

struct StageResult {
  int status = deploy_status::done;
  std::string error;        // one line when status != 0
  std::string entry;        // STAGED/NAME
  bool replaced = false;    // an older staged copy of NAME was replaced
  std::string spki_sha256;  // of the staged leaf
};

// Checks the chain and key (they must belong together), then writes the entry
// atomically, replacing an older staged copy of the same name. Creates the
// staging directory (mode 0700) if missing.
StageResult stage_certificate(const StageRequest& request);

struct DeployOptions {
  std::string staged_dir;
  RolloverOptions rollover;  // resolver, margin, state file, timeout; host/port per entry
  int lock_wait = 60;        // seconds
  std::string only_name;     // non-empty: only this entry (a hook deploying what it staged)
};

enum class DeployOutcome { deployed, refused, undetermined, bad_staging, install_failed, reload_failed };
std::string_view to_string(DeployOutcome o);

struct InstalledFile {
  std::string role;    // key | chain | combined
  std::string target;  // the installed path
  std::string backup;  // the replaced file, now at TARGET.danekit-backup; "" when there was none
  unsigned mode = 0;
  bool changed = true;  // false: the target already held exactly this content
};

struct ReloadRun {
  std::string command;
  int exit_code = -1;  // -1: killed (timeout or signal) or could not run
  bool timed_out = false;
  std::string output;  // first line of its output, sanitized, at most 200 bytes
};

struct DeployEntry {
  std::string name;
  DeployOutcome outcome = DeployOutcome::bad_staging;
  std::string error;  // one line, for bad_staging, undetermined, install_failed, reload_failed
  StagedMetadata meta;
  PrecheckRun precheck;
  std::vector<InstalledFile> installed;
  std::optional<ReloadRun> reload;
  bool staged_removed = false;
};

struct DeployRun {
  std::string staged_dir;
  int status = deploy_status::done;  // worst of the entries; or the directory's own fault
  std::string error;                 // a fault of the directory or the lock; "" otherwise
  std::vector<DeployEntry> entries;  // in name order; empty: nothing staged
};

// Under the lock: for every entry, reads and checks it, prechecks the staged
// chain (precheck_hosts), and when safe installs the files (temporary file in
// the target's directory, owner and mode of the replaced file - a key never
// group-writable or world-readable, 0600 when new - fsync, rename; the
// replaced file kept as TARGET.danekit-backup), runs the reload command with
// its timeout, and removes the entry. An entry that is refused or fails stays
// staged for the next run.
DeployRun deploy_staged(const DeployOptions& options);

// The exit status for one entry's outcome.
int exit_status_for(DeployOutcome o);

}  // namespace danekit
