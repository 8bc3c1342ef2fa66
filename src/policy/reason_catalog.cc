#include "policy/reason_catalog.h"

#include <fmt/format.h>
#include <array>

namespace danekit {

namespace {

constexpr std::string_view check = "check";
constexpr std::string_view local = "local";

// clang-format off
constexpr std::array catalog{
  // --- the MX RRset and the domain
  ReasonInfo{"mx-bogus", check, "E", "RFC 7672 §2.2.1", "The MX answer failed DNSSEC validation; senders defer all mail.", "Fix the DNSSEC chain of the domain's zone (danekit dnssec DOMAIN names the server and signature)."},
  ReasonInfo{"mx-lookup-failed", check, "E", "RFC 7672 §2.2.1", "The MX lookup failed (SERVFAIL, timeout); senders defer.", "Make sure every name server of the zone answers; check again."},
  ReasonInfo{"mx-insecure", check, "W", "RFC 7672 §2.2.1", "The MX RRset is unsigned; its hosts could be substituted.", "Sign the domain's zone and publish its DS."},
  ReasonInfo{"mx-malformed", check, "W", "RFC 1035 §3.3.9", "An MX record could not be parsed, or its target holds bytes no host name has (an escaped dot, a NUL); it is never looked up under another name.", "Fix the MX record's target."},
  ReasonInfo{"mx-invalid-target", check, "W", "RFC 7672 §2.2.1", "An MX target is a top-level name.", "Point the MX record at a mail host name."},
  ReasonInfo{"mx-truncated", check, "W", "", "More than 10 MX hosts; only the first 10 were checked.", "Publish fewer MX hosts."},
  ReasonInfo{"mx-no-usable-host", check, "E", "RFC 5321 §5.1", "No MX record names a usable host.", "Publish an MX record for a mail host, or a null MX if the domain takes no mail."},
  ReasonInfo{"mx-cname", check, "W", "RFC 2181 §10.3", "An MX target is an alias (CNAME). DANE still follows it.", "Point the MX record at the canonical name."},
  ReasonInfo{"null-mx", check, "I", "RFC 7505 §3", "The domain accepts no mail.", ""},
  ReasonInfo{"null-mx-mixed", check, "W", "RFC 7505 §3", "A null MX stands beside other MX records.", "Remove the null MX or the other MX records."},
  ReasonInfo{"domain-nxdomain", check, "E", "RFC 5321 §5.1", "The domain does not exist.", "Check the spelling of the domain."},
  ReasonInfo{"implicit-mx", check, "I", "RFC 7672 §2.2.2", "No MX records: the domain itself is the mail host.", ""},
  // --- the MX hosts' addresses
  ReasonInfo{"address-bogus", check, "E", "RFC 7672 §2.2.3", "An A or AAAA answer failed validation.", "Fix the DNSSEC chain of the host's zone (danekit dnssec)."},
  ReasonInfo{"address-lookup-failed", check, "E", "RFC 7672 §2.2.3", "An A or AAAA lookup failed.", "Make sure the host's name servers answer; check again."},
  ReasonInfo{"address-insecure", check, "W", "RFC 7672 §2.2.3", "The host's addresses are unsigned, so no TLSA lookup is made.", "Sign the MX host's zone and publish its DS record."},
  ReasonInfo{"address-special-purpose", check, "W", "RFC 6890 §2.2", "An MX address is in an IANA special-purpose range (loopback, private use, documentation, ...), also when wrapped in an IPv4-mapped, NAT64 or 6to4 address (docs/special-addresses.md).", "Publish the host's public address."},
  ReasonInfo{"host-no-address", check, "E", "RFC 5321 §5.1", "The MX host has no addresses.", "Publish A or AAAA records for the MX host."},
  // --- TLSA
  ReasonInfo{"tlsa-bogus", check, "E", "RFC 7672 §2.2", "The TLSA answer failed validation: senders skip the host.", "Re-sign the zone; make sure every authoritative server serves the signed TLSA RRset (danekit dnssec)."},
  ReasonInfo{"tlsa-lookup-failed", check, "E", "RFC 7672 §2.2", "The TLSA lookup failed: senders skip the host.", "Make sure every name server of the zone answers TLSA queries (also NODATA); check again."},
  ReasonInfo{"tlsa-owner-too-long", check, "E", "RFC 1035 §2.3.4", "_25._tcp.<host> is longer than 255 octets: no TLSA RRset can exist there and senders defer, every time.", "Use an MX host name of at most 244 characters."},
  ReasonInfo{"tlsa-absent", check, "I", "RFC 7672 §2.2", "No TLSA records (secure or insecure denial): DANE does not apply.", "Publish TLSA records, e.g. 3 1 1 of the server key (danekit tlsa generate)."},
  ReasonInfo{"tlsa-insecure", check, "W", "RFC 7672 §2.2", "TLSA records exist but are unsigned; senders ignore them.", "Sign the zone that holds the TLSA records."},
  ReasonInfo{"tlsa-unusable", check, "E", "RFC 7672 §3.1.3", "No record is usable for SMTP (PKIX usages, unknown parameters, wrong digest lengths, Full(0) data that is not a certificate or key, as OpenSSL judges it): TLS is mandatory but unauthenticated.", "Publish DANE-EE(3) or DANE-TA(2) records."},
  ReasonInfo{"tlsa-too-many", check, "W", "RFC 7671 §8", "More than 12 records; some large receivers reject such RRsets.", "Keep the RRset small: current key, next key, and at most an issuer record."},
  ReasonInfo{"tlsa-record-unmatched", check, "I/W", "RFC 7671 §8", "A usable record matches no address (fine for a published next key).", "Fine if it is the next key of a planned rollover; otherwise remove it."},
  ReasonInfo{"digest-agility-hidden", check, "E", "RFC 7671 §9", "A matching record is ignored because a non-matching SHA2-512 record with the same usage and selector is present.", "Remove the stale SHA2-512 record, or publish a matching one."},
  // --- the SMTP servers
  ReasonInfo{"dane-mismatch", check, "E", "RFC 7672 §2.2", "No usable record matches the chain an address served.", "Publish TLSA records for the key or issuer this server uses, or deploy the certificate the records describe."},
  ReasonInfo{"dane-name-mismatch", check, "E", "RFC 7672 §3.2.2", "DANE-TA matched but the certificate names neither the TLSA base domain, the MX host nor the next-hop domain.", "Issue the certificate with the MX host name as a DNS subjectAltName, or publish a DANE-EE record."},
  ReasonInfo{"dane-expired", check, "E", "RFC 7672 §3.1.2", "DANE-TA matched but a certificate in the path is out of its dates.", "Renew the certificate."},
  ReasonInfo{"ta-nexthop-insecure-mx", check, "W", "RFC 7672 §3.2.2", "A DANE-TA certificate names only the next-hop domain while the MX RRset is not signed: Postfix accepts it (\"Trusted\"), a stricter reading of §3.2.2 would not.", "Add the MX host name to the certificate, or sign the domain's zone."},
  ReasonInfo{"dual-cert-one-covered", check, "W", "RFC 7671 §8", "The server holds an RSA and an ECDSA certificate and picks by the client's signature algorithms; the TLSA records match only one of them, so senders that get the other defer.", "Publish a TLSA record for the other certificate's key too, or serve one certificate."},
  ReasonInfo{"tls-policy-rejected", check, "E", "RFC 7672 §3.1", "A record matches, but OpenSSL's own limits refuse the chain as every OpenSSL-based sender runs them: a key below the security level, a weak signature digest, an unhandled critical extension, a chain over the verify depth.", "Reissue the certificate (the text says what OpenSSL refused)."},
  ReasonInfo{"starttls-missing", check, "E", "RFC 7672 §2.2", "STARTTLS not offered, refused, or answered with a malformed reply while TLSA makes TLS mandatory.", "Enable STARTTLS on this server."},
  ReasonInfo{"starttls-no-answer", check, "E", "RFC 3207 §4", "The server offers STARTTLS, then goes silent, closes or resets instead of answering it (perhaps temporary: exit status 3).", "Check that the server can start TLS (certificate and key readable); its log says why."},
  ReasonInfo{"tls-alert", check, "E", "RFC 8446 §6", "The server ended the TLS handshake with an alert.", "Check the server's TLS protocol, cipher and signature-algorithm settings."},
  ReasonInfo{"tls-handshake-interrupted", check, "E", "RFC 7672 §2.2", "The TLS handshake did not finish: timeout, reset or close.", "Check that the server can load its certificate and key; check again."},
  ReasonInfo{"tls-handshake-failed", check, "E", "RFC 7672 §2.2", "The TLS handshake failed on our side of the wire (a protocol error).", "Check the server's TLS configuration and certificate files."},
  ReasonInfo{"connection-refused", check, "E", "RFC 5321 §5.1", "The address refused the connection to port 25: nothing listens there (perhaps temporary: exit status 3).", "Start the mail server on this address, or remove the address from the DNS."},
  ReasonInfo{"connect-timeout", check, "E", "RFC 5321 §5.1", "No answer to a connection to port 25 in time: the host is down or a firewall drops it (perhaps temporary: exit status 3).", "Open port 25 at this address; if the checking network blocks port 25, check from another."},
  ReasonInfo{"host-unreachable", check, "E", "RFC 5321 §5.1", "A router reports the address unreachable (perhaps temporary: exit status 3).", "Check the address in the DNS and the server's network."},
  ReasonInfo{"smtp-session-failed", check, "E", "RFC 5321 §4.2", "The SMTP session failed before STARTTLS: no greeting, a refused greeting, or no EHLO answer (perhaps temporary: exit status 3).", "The server must greet with 220 and answer EHLO."},
  ReasonInfo{"unreachable", check, "E", "RFC 5321 §5.1", "No SMTP session for another reason; the text says which (perhaps temporary: exit status 3).", "Make sure the server listens on port 25 at this address and is reachable."},
  ReasonInfo{"probe-failed", check, "E", "", "The exchange with the address ended in a way no other code names; the text says how.", ""},
  ReasonInfo{"starttls-injection", check, "W", "RFC 3207 §5", "The server sent bytes after its STARTTLS reply (discarded).", "Fix or replace the server software (CVE-2011-0411)."},
  ReasonInfo{"ta-not-sent", check, "W", "RFC 7671 §5.2.3", "Authenticated through a DANE-TA key the server does not send (works with OpenSSL, not with every sender).", "Send the issuer certificate in the chain."},
  ReasonInfo{"ee-certificate-expired", check, "I", "RFC 7672 §3.1.1", "DANE-EE matched an expired certificate (still authenticates).", ""},
  ReasonInfo{"chain-expires-soon", check, "W", "RFC 7672 §3.1.2", "With `--days N`: a DANE-TA chain certificate expires within N days.", "Renew the certificate before it expires."},
  ReasonInfo{"mixed-dane", check, "W", "RFC 7672 §2.2", "Some MX hosts have DANE and others do not.", "Publish TLSA records for every MX host."},
  // --- danekit's own trouble: never about the domain
  ReasonInfo{"local-descriptors", local, "E", "", "This process ran out of file descriptors (EMFILE/ENFILE).", "Raise `ulimit -n` or lower `--concurrency`."},
  ReasonInfo{"local-ports", local, "E", "", "No free local port or address for an outgoing connection (EADDRNOTAVAIL, EADDRINUSE, EAGAIN).", "Lower `--concurrency` or `--per-ip`, or widen net.ipv4.ip_local_port_range."},
  ReasonInfo{"local-memory", local, "E", "", "Out of memory or socket buffers (ENOMEM, ENOBUFS, libunbound out of memory).", "Lower `--concurrency`."},
  ReasonInfo{"local-network", local, "E", "", "This machine has no route to an address of the domain (ENETUNREACH), often IPv6 on an IPv4-only machine.", "Fix this machine's routes, or check over one family (-4 or -6)."},
  ReasonInfo{"resolver-unreachable", local, "E", "", "A lookup failed and the resolver self-test failed too: a lookup of a random top-level name (no cache can hold it) did not come back validated from the root. No network, or an unreachable `--resolver`.", "Check this machine's network and the --resolver, --root-hints and --trust-anchor settings."},
  ReasonInfo{"internal-error", local, "E", "", "The check of this domain ended with an internal error; the text says which. Other domains are not affected.", "Check again; if it persists, report it with the output."},
};
// clang-format on

}  // namespace

std::span<const ReasonInfo> reason_catalog() { return catalog; }

const ReasonInfo* find_reason(std::string_view code) {
  for (const auto& r : catalog)
    if (r.code == code) return &r;
  return nullptr;
}

std::string reason_table_markdown(std::string_view group) {
  std::string out = "| code | sev | rule | meaning | fix |\n|---|---|---|---|---|\n";
  for (const auto& r : catalog)
    if (r.group == group)
      out += fmt::format("| `{}` | {} | {} | {} | {} |\n", r.code, r.severity, r.rfc, r.meaning, r.fix);
  return out;
}

}  // namespace danekit
