// TLSA records for publishers: making them (`danekit tlsa generate`) and checking
// published or planned ones against a certificate, key or live server
// (`danekit tlsa verify`).
//
// Everything here except lookup_tlsa() (src/check/lookup_tlsa.cc) is pure: facts in (records, the chain or
// key, probe results, a DNS answer), a value out. Reading files lives in
// danekit/keys.h, probing servers in danekit/probe.h; printing and exit codes in
// apps/danekit. The RRset verdict is the one an RFC 7672 sender reaches, and it
// is OpenSSL's: authenticate() (danekit/authenticate.h), the code that decides
// `danekit check`, run on the chain (usage rules, digest algorithm agility of
// RFC 7671 §9, and for DANE-TA names, dates and signatures).
//
// Example:
//   auto chain = load_certificates("chain.pem");             // keys.h
//   KeySource src{"--cert chain.pem", *chain, (*chain)[0].spki_der};
//   auto rec = generate_tlsa(src, {});                       // 3 1 1
//   auto owner = tlsa_owner("mx.example.org", 25);          // "_25._tcp.mx.example.org."
//   std::string line = format_record(rec->record, *owner, 3600, RecordFormat::zone);
//   std::string json = generate_to_json({"--cert chain.pem", "mx.example.org", 25, 3600, *rec});
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "danekit/cert.h"
#include "danekit/keys.h"
#include "danekit/match.h"
#include "danekit/probe.h"
#include "danekit/report.h"
#include "danekit/resolver.h"
#include "danekit/tlsa.h"

namespace danekit {

// A usage, selector or matching type as typed by a person: the number or the
// RFC 7218 name, case-insensitive ("3", "dane-ee", "SPKI", "sha2-256").
tl::expected<std::uint8_t, std::string> parse_usage(std::string_view text);
tl::expected<std::uint8_t, std::string> parse_selector(std::string_view text);
tl::expected<std::uint8_t, std::string> parse_mtype(std::string_view text);

struct GenerateParams {
  std::uint8_t usage = usage::dane_ee;
  std::uint8_t selector = selector::spki;
  std::uint8_t mtype = mtype::sha256;
  std::size_t depth = 0;  // chain element: 0 the leaf, 1 its issuer, ...
};

struct Generated {
  TlsaRecord record;
  // Fragile but valid forms, one sentence each: Cert(0) for a leaf (changes
  // with every renewal), PKIX usages (ignored by SMTP), Full(0) (large).
  std::vector<std::string> warnings;
};

// Fails, with the fix in the message, for what cannot work: usage, selector or
// matching type out of range, selector Cert(0) without a certificate, a depth
// the chain does not have, DANE-EE/PKIX-EE above depth 0, DANE-TA/PKIX-TA at 0.
tl::expected<Generated, std::string> generate_tlsa(const KeySource& source, const GenerateParams& params);

// "_25._tcp.mx.example.org." (RFC 6698 §3; U-labels are converted).
tl::expected<std::string, std::string> tlsa_owner(std::string_view host, std::uint16_t port);

enum class RecordFormat { zone, generic };

// One record, one line, no newline:
//   zone     "_25._tcp.mx.example.org. 3600 IN TLSA 3 1 1 <hex>"
//   generic  "_25._tcp.mx.example.org. 3600 IN TYPE52 \# 35 030101<hex>" (RFC 3597)
// With an empty owner they print the RDATA alone ("3 1 1 <hex>",
// "\# 35 030101<hex>") and `ttl` is not printed. A ttl of nullopt is left out
// (the zone's default).
std::string format_record(const TlsaRecord& record, const std::string& owner, std::optional<std::uint32_t> ttl,
                          RecordFormat format);

// What `tlsa generate` made, for its JSON form (schema danekit.tlsa-generate/1,
// docs/json.md): the input, where the record goes and the record.
struct GenerateOutput {
  std::string source;     // "--cert chain.pem", "--server mx.example.org:25 (192.0.2.1)"
  std::string tlsa_base;  // the TLSA base domain, "mx.example.org"; "" when not known (no owner name)
  std::uint16_t port = 25;
  std::optional<std::uint32_t> ttl;
  Generated generated;
};
// One line: envelope, source, tlsa_base, port, owner ("_25._tcp.mx.example.org",
// no trailing dot), ttl, record (the shared TLSA record shape), zone (the zone
// file line, or null without an owner), warnings. Nulls where not known.
std::string generate_to_json(const GenerateOutput& out);

// ---- verify ---------------------------------------------------------------

// One record as typed by a person: "3 1 1 <hex>", RFC 7218 names allowed, hex
// split by any white space (also no-break and zero-width spaces pasted from web
// pages), zone-file parentheses ignored, or the RFC 3597 form "\# 35 0301..".
// Odd-length or non-hex data and wrong digest lengths are errors.
tl::expected<TlsaRecord, std::string> parse_tlsa_input(std::string_view text);

// A records file: one record a line, either zone-file lines
// ("_25._tcp.mx.example.org. 3600 IN TLSA 3 1 1 <hex>", parentheses may continue
// a record over lines) or bare "3 1 1 <hex>"; ';' comments, '#' comments at the
// start of a line or after white space; blank lines and $TTL/$ORIGIN skipped.
// Errors name the line: "line 3: TLSA data has an odd number of hex digits (63)".
tl::expected<std::vector<TlsaRecord>, std::string> parse_tlsa_file(std::string_view text);

// More records than this in one RRset draw a warning: large answers need TCP
// and some receivers' resolvers and senders reject them.
inline constexpr std::size_t max_comfortable_rrset = 12;

enum class RrsetVerdict {
  authenticates,  // a usable, not-hidden record matches
  fails,          // usable records, none matches: a DANE sender defers the mail
  encrypt_only,   // no usable record: TLS is required, nothing is authenticated
  no_records,     // DNS: provably no TLSA RRset (secure NXDOMAIN/NODATA)
  insecure,       // DNS: the RRset is not signed, senders ignore it
  bogus,          // DNS: validation failed, senders defer the mail
  undetermined,   // the DNS or the server could not be reached
};
std::string_view to_string(RrsetVerdict v);

struct RecordVerdict {
  RecordFinding finding;  // analyze_records()'s finding
  // matches | rejected | stale | near-miss | unusable | hidden | unchecked
  std::string verdict;
  std::string detail;  // one sentence: where it matched, why not, or the hint
};

struct VerifyReport {
  std::string tlsa_base;         // the TLSA base domain, "mx.example.org", or "" when not known
  std::string owner;             // its owner name, "_25._tcp.mx.example.org", or "" when not known
  std::string records_from;      // "DNS", "--records FILE", "--record"
  std::string checked_against;   // "--cert chain.pem (2 certificates)", "--server HOST:PORT"
  std::optional<DnsStatus> dns;  // when the records came from DNS
  std::vector<RecordVerdict> records;
  std::vector<ProbeResult> servers;  // --server: one per address
  RrsetVerdict verdict = RrsetVerdict::undetermined;
  std::string verdict_detail;
  std::vector<std::string> warnings;
};

// What authenticate() needs besides the records and the chain: the reference
// identifiers of RFC 7672 §3.2.2 (used by DANE-TA(2) only, §3.2.1) and the
// verification time. Pure code passes `at` in; it never lets OpenSSL read the
// clock (authenticate() treats 0 as "now", so explain_records() passes 1 for 0).
struct DaneContext {
  std::string base;                      // TLSA base domain (the MX host name); "": names are not checked
  std::vector<std::string> extra_names;  // further reference identifiers: the next-hop domain, when known
  std::int64_t at = 0;                   // seconds since the epoch
};

// The records a sender hands to OpenSSL: usable for SMTP (RFC 7672 §3.1.3) and
// accepted by OpenSSL's SSL_dane_tlsa_add (Full(0) data that decodes).
std::vector<TlsaRecord> records_for_openssl(const std::vector<TlsaRecord>& records);

// analyze_records() with OpenSSL's word on each record, so no explanation
// contradicts the authentication result (danekit/authenticate.h):
//  - a record OpenSSL cannot load (Full(0) data that is not a DER certificate or
//    SubjectPublicKeyInfo) is "unusable";
//  - a record matches a chain where authenticate() with that record alone
//    verifies it, at OpenSSL's depth; a DANE-TA(2) record whose trust anchor is
//    not in the chain but whose key signs the top certificate matches too;
//  - a record whose digest matches but whose chain OpenSSL rejects (names,
//    dates, signatures) is "rejected", with OpenSSL's reason in the note.
// Hidden records keep their status; their matches say where they would match.
// A chain without a certificate (a bare key, CertInfo::der empty) cannot be
// given to OpenSSL; for it the DANE-EE(3) SPKI(1) comparison of
// analyze_records() stands, which is all OpenSSL would check (RFC 7672 §3.1.1).
std::vector<RecordFinding> explain_records(const std::vector<TlsaRecord>& records,
                                           const std::vector<ServedChain>& chains, const DaneContext& context);

// Records against a file's chain or key (no server). With a certificate chain
// the RRset verdict is OpenSSL's (authenticate() over the usable records, at
// context.at, names checked when context.base is set); with a key only, the
// DANE-EE(3) SPKI(1) digest comparison of explain_records(). A key-only source
// cannot check Cert(0) records; they are "unchecked".
VerifyReport verify_against_source(const std::vector<TlsaRecord>& records, const KeySource& source,
                                   const DaneContext& context);

// Records against what a server presented, probed with OpenSSL's DANE
// verification of the usable records: the RRset verdict comes from the probe
// outcomes (all verified: authenticates; any mismatch, name, date or TLS failure:
// fails; otherwise unreachable: undetermined), the per-record verdicts from
// explain_records() over the served chains.
VerifyReport verify_against_server(const std::vector<TlsaRecord>& records, const std::vector<ProbeResult>& probes,
                                   const DaneContext& context);

// Folds a DNS answer's security into a report made from its records: insecure and
// bogus answers override the verdict, whatever matched.
void apply_dns_status(VerifyReport& report, const DnsStatus& dns);

// 0 authenticates, 1 any other definite verdict, 3 undetermined.
int exit_status_for(const VerifyReport& report);

std::string render_verify_text(const VerifyReport& report);
// One line, schema danekit.tlsa-verify/1 (docs/json.md; src/report/tlsa_json.cc).
std::string verify_to_json(const VerifyReport& report);

// ---- DNS --------------------------------------------------------------------

struct TlsaLookup {
  DnsStatus status;                 // name, security, kind, ttl, detail
  std::vector<TlsaRecord> records;  // parsed RDATA (RDATA under 4 bytes is dropped, see errors)
  std::vector<std::string> errors;  // RDATA that did not parse
};

// Validated lookup of "_PORT._tcp.HOST" TLSA through libunbound, on its own event
// loop. Throws ResolverError when the resolver configuration cannot be used.
TlsaLookup lookup_tlsa(const std::string& host, std::uint16_t port, const ResolverConfig& resolver,
                       std::chrono::milliseconds timeout);

}  // namespace danekit
