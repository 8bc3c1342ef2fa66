// One SMTP + STARTTLS + TLS probe of one address, and what it found.
//
// The probe is the only place danekit talks to a mail server. It runs the
// exchange a DANE sender runs (banner, EHLO, STARTTLS, handshake with OpenSSL's
// DANE verification, EHLO again, QUIT) under a deadline for every step and a
// bound on every line, reply and chain, and always returns an Outcome.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "danekit/cert.h"
#include "danekit/tlsa.h"

namespace danekit {

enum class Outcome {
  verified,       // DANE authentication succeeded
  mismatch,       // no TLSA record matched the chain
  name_mismatch,  // DANE-TA matched, but the leaf names none of the reference identifiers
  expired,        // DANE-TA matched, but a certificate in the path is out of its dates
  no_starttls,    // STARTTLS not offered or refused
  tls_failed,     // the TLS handshake failed
  unreachable,    // no SMTP session (connect failed, timeout, refused greeting)
  encrypted,      // TLS without authentication (no usable TLSA, or not required)
  not_checked,    // a DANE sender would not connect here (e.g. bogus TLSA)
  // A TLSA record matches, but OpenSSL's own limits refuse the chain as every
  // OpenSSL-based sender runs them: a key below the security level, an
  // unhandled critical extension, a chain deeper than the verify depth.
  policy_rejected,
};
std::string_view to_string(Outcome o);

// Whether a served chain validates under the Web PKI for the MX host name, as
// an MTA-STS sender requires (RFC 8461 §4.2): a trusted issuer (the system
// store plus --ca-file), the name in the certificate, in its dates, over TLS
// 1.2 or later. not_checked: there was no chain to judge.
enum class Pkix { not_checked, valid, invalid };
std::string_view to_string(Pkix p);

enum class ProbeMode {
  dane,           // usable TLSA: authenticate against `records`
  encrypt,        // TLSA present but none usable: TLS mandatory, no authentication
  opportunistic,  // no DANE: try STARTTLS, report what is there
};

struct ProbeRequest {
  std::string address;  // IPv4 or IPv6 literal
  std::uint16_t port = 25;
  bool implicit_tls = false;  // TLS from the first byte (port 465), no SMTP before it
  ProbeMode mode = ProbeMode::opportunistic;
  std::vector<TlsaRecord> records;       // usable records only (mode dane)
  std::string tlsa_base;                 // SNI and first reference identifier
  std::vector<std::string> extra_names;  // further DANE-TA reference identifiers
  std::string helo = "danekit.invalid";
  // Signature algorithms offered, as an OpenSSL list; empty: OpenSSL's
  // default, as senders offer. A server holding an RSA and an ECDSA
  // certificate picks by this offer, so danekit asks once per key type.
  std::string sigalgs;
  // When set, the chain is also judged under the Web PKI for this name
  // (ProbeResult::pkix), offline, apart from the DANE verification.
  std::string pkix_name;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds command_timeout{10000};  // whole reply budget per command
  std::chrono::milliseconds total_timeout{30000};    // the whole exchange
};

struct ProbeResult {
  std::string address;
  Outcome outcome = Outcome::not_checked;
  std::string stage;   // where it ended: connect, banner, ehlo, starttls, handshake, verify, done
  std::string detail;  // one line for a human
  // What ended a failed exchange, for the reason code: refused | timeout |
  // reset | closed | host-unreachable | tls-alert | tls-protocol | reply; empty
  // when it did not fail on the transport.
  std::string failure;
  std::string banner;  // first line of the greeting, sanitised
  bool starttls_offered = false;
  bool plaintext_injection = false;  // bytes followed the STARTTLS 220 (RFC 3207 §5 / CVE-2011-0411)
  std::string tls_version;
  std::string cipher;
  std::vector<CertInfo> chain;  // as sent by the server, leaf first
  int match_depth = -1;         // chain depth OpenSSL matched, -1 if none
  std::optional<TlsaRecord> matched;
  std::string matched_name;       // reference identifier a DANE-TA leaf matched, if any
  std::string verify_error;       // OpenSSL's verification error text, if any
  Pkix pkix = Pkix::not_checked;  // for ProbeRequest::pkix_name
  std::string pkix_detail;        // why invalid or not checked; the issuer when valid
  std::chrono::milliseconds elapsed{0};
  // The server's other certificate: with the default offer it served `chain`;
  // offered only the other key type's signature algorithms (RSA when the leaf
  // is ECDSA and the reverse), it served this one. Absent when it has one.
  struct Alternate {
    std::string offer;  // "rsa" | "ecdsa": what was offered
    Outcome outcome = Outcome::not_checked;
    std::vector<CertInfo> chain;
    std::optional<TlsaRecord> matched;
    int match_depth = -1;
    std::string detail;
  };
  std::optional<Alternate> alternate;
  // Set when the exchange failed for a cause on danekit's side (descriptors,
  // ports, memory), which says nothing about the server: "descriptors", ...
  std::string local_cause;
};

// Probes one server outside a domain check (danekit tlsa, rollover): `host` is
// an IP literal or a name whose A/AAAA records are looked up through `resolver`
// (validated; an unsigned name is fine here). Returns one result per address,
// in address order; an empty vector with `error` set when the name has no
// addresses or the lookup failed. Runs its own event loop.
struct ResolverConfig;
struct ServerProbeOptions {
  std::uint16_t port = 25;
  bool implicit_tls = false;
  std::string sni;                  // default: the host name (none for an IP literal)
  std::vector<TlsaRecord> records;  // when set: DANE mode against these records
  std::vector<std::string> extra_names;
  std::string helo = "danekit.invalid";
  std::chrono::milliseconds timeout{20000};
};
std::vector<ProbeResult> probe_server(const std::string& host, const ServerProbeOptions& options,
                                      const ResolverConfig& resolver, std::string& error);

}  // namespace danekit
