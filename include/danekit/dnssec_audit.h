// The per-nameserver DNSSEC audit behind `danekit dnssec DOMAIN` (docs/cli.md,
// docs/reasons.md "DNSSEC audit").
//
// Two halves. The collector (src/dns/ldns/dnssec_collect.cc) walks the
// delegations from the root to the mail domain's zone and to each MX host's
// zone and asks every authoritative server address directly (RD=0, DO=1, over
// UDP and over TCP) for what a validator needs: SOA, DNSKEY, NSEC3PARAM, the DS
// at the parent, and at the leaves MX, A, AAAA and TLSA. It keeps each reply as
// wire bytes, or the reason there was none. The audit (audit_dnssec) is pure: it
// takes those replies, the root trust anchors and a time, verifies signatures
// with ldns at that time and returns findings, each with a stable code, the
// zone, the server address it concerns ("*" when it concerns every server of
// the zone), the RFC section, one sentence and a fix.
//
// Invariants: a server that did not answer is a finding against that server
// (ns-timeout, ns-unreachable), never a signature verdict; a truncated UDP reply
// is not read (the TCP reply is); the audit reads no clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "danekit/report.h"
#include "danekit/resolver.h"

namespace danekit {

enum class DnsTransport { udp, tcp };
std::string_view to_string(DnsTransport t);

// One query to one server address and what came back.
struct DnsExchange {
  std::string server;   // the NS name the address belongs to
  std::string address;  // IPv4 or IPv6 literal
  DnsTransport transport = DnsTransport::udp;
  std::string qname;  // no trailing dot; "." for the root
  std::uint16_t qtype = 0;
  std::vector<std::uint8_t> reply;  // wire format; empty when `failure` is set
  std::string failure;              // "", "timeout", "unreachable", "malformed"; not the server's: "deadline", "unsent"
  std::string detail;               // the system's words for the failure
};

struct NameServerAddress {
  std::string name;     // NS name, no trailing dot
  std::string address;  // literal
};

// What the collector saw for one zone.
struct ZoneObservation {
  std::string zone;                                // "." for the root, else lower case without trailing dot
  std::string parent;                              // empty for the root
  std::vector<NameServerAddress> servers;          // every address of every NS name (capped)
  std::vector<std::string> names_without_address;  // NS names with no A/AAAA found
  std::vector<DnsExchange> exchanges;              // queries to this zone's servers
  std::vector<DnsExchange> parent_exchanges;       // the DS queries to the parent's servers
};

struct DnssecAuditInput {
  std::string domain;
  std::vector<ZoneObservation> zones;      // parents before children, the root first
  std::vector<std::string> trust_anchors;  // root DS/DNSKEY records, presentation format
  std::int64_t now = 0;                    // seconds since the epoch
  int warn_days = 3;                       // rrsig-expiring threshold
  std::vector<std::string> notes;          // what the collector could not do (capped, unreachable)
};

// DnssecFinding (code, severity, zone, server or "*", rfc, text, fix) is in
// danekit/report.h, where check's report carries a summary of them.

struct DnssecServerReport {
  std::string name, address;
  std::string udp, tcp;  // ok | timeout | unreachable | malformed | truncated | refused | servfail | not-authoritative
  std::optional<std::uint32_t> soa_serial;
  std::vector<std::string> serves;  // one line per RRset: "DNSKEY 2 records, signed until ..."
};

struct DnssecDs {
  int key_tag = 0, algorithm = 0, digest_type = 0;
  std::string digest;    // hex
  bool matches = false;  // a DNSKEY the zone's servers publish has this digest
};

struct DnssecKey {
  int key_tag = 0, flags = 0, algorithm = 0;
  bool signs_dnskey = false;  // a valid RRSIG over the DNSKEY RRset made with it
};

struct DnssecZoneReport {
  std::string name, parent;
  std::string status;  // secure | insecure | bogus | unknown
  std::vector<DnssecServerReport> servers;
  std::vector<DnssecDs> ds;
  std::vector<DnssecKey> dnskeys;
};

struct DnssecReport {
  std::string domain;
  std::int64_t audited_at = 0;
  std::vector<DnssecZoneReport> zones;
  std::vector<DnssecFinding> findings;  // errors first, then warnings, then info
  std::vector<std::string> notes;
};

DnssecReport audit_dnssec(const DnssecAuditInput& in);

bool has_errors(const DnssecReport& r);

// The reason catalog: one row per code. `text` is a template with {zone},
// {servers} and {detail}; docs/reasons.md documents every row.
struct DnssecReason {
  std::string_view code;
  Severity severity;
  std::string_view rfc;
  std::string_view text;
  std::string_view fix;
};
const std::vector<DnssecReason>& dnssec_reasons();

// The collector: walks and queries the network (bounded), then audits at `now`.
struct DnssecCollectOptions {
  ResolverConfig resolver;
  std::chrono::milliseconds query_timeout{3000};
  std::chrono::milliseconds deadline{60000};  // the whole collection
  std::size_t max_ns_names = 16;              // per zone
  std::size_t max_addresses = 32;             // per zone
  std::size_t max_zones = 16;
  std::size_t max_mx = 8;
  int warn_days = 3;
  std::uint16_t port = 25;  // the TLSA owner _PORT._tcp
  std::uint16_t dns_port = 53;
};

// Could not audit at all (our network, our resolver): `error` says why.
struct DnssecRun {
  DnssecReport report;
  std::string error;
};
// The audit of DOMAIN's chain, its MX hosts' zones and their TLSA owners, with
// `now` as the verification time.
DnssecRun run_dnssec_audit(const std::string& domain, const DnssecCollectOptions& options, std::int64_t now);

// What each authoritative server of the zone that holds `owner` serves there
// for `type` (the walk and direct queries of the audit, no verification): for
// the rollover's "on every server" checks. `error` when no zone was found.
struct AuthoritativeAnswer {
  std::string name, address;
  std::string failure;  // "" when it answered authoritatively; else timeout, unreachable, refused, ...
  std::vector<std::vector<std::uint8_t>> rdata;  // of `type` at `owner`; empty for NODATA/NXDOMAIN
};
struct AuthoritativeLookup {
  std::string zone;
  std::vector<AuthoritativeAnswer> servers;
  std::string error;
};
AuthoritativeLookup query_authoritative(const std::string& owner, std::uint16_t type,
                                        const DnssecCollectOptions& options);

std::string to_json(const DnssecReport& r);  // one line, schema danekit.dnssec/1
std::string render_text(const DnssecReport& r);

}  // namespace danekit
