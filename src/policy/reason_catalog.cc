#include "policy/reason_catalog.h"

#include <fmt/format.h>
#include <array>

namespace danekit {

namespace {

constexpr std::string_view check = "check";
constexpr std::string_view local = "local";
constexpr std::string_view sts = "mta-sts";

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
  // --- MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): src/sts/mta_sts.cc
  ReasonInfo{"sts-missing", sts, "I", "RFC 8461 §3.1", "No TXT record beginning with v=STSv1 at `_mta-sts.DOMAIN`: MTA-STS senders apply no policy.", "Publish a policy and its TXT record (danekit mta-sts generate)."},
  ReasonInfo{"sts-multiple-records", sts, "E", "RFC 8461 §3.1", "More than one TXT record at `_mta-sts.DOMAIN` begins with v=STSv1; senders then ignore MTA-STS for the domain.", "Keep exactly one v=STSv1 record."},
  ReasonInfo{"sts-record-invalid", sts, "E", "RFC 8461 §3.1", "The v=STSv1 record breaks the record syntax (fields name=value separated by ';', an id of 1 to 32 letters and digits); senders ignore it. The text says where.", "Publish \"v=STSv1; id=...\" with an id of letters and digits only (danekit mta-sts generate)."},
  ReasonInfo{"sts-record-near-miss", sts, "W", "RFC 8461 §3.1", "A TXT record at `_mta-sts.DOMAIN` looks meant as an MTA-STS record but is discarded: it does not begin with exactly v=STSv1 (case, leading space, no ';').", "Begin the record with \"v=STSv1;\" exactly."},
  ReasonInfo{"sts-duplicate-key", sts, "W", "RFC 8461 §3.1, §3.2", "A field appears twice (id in the TXT record; version, mode or max_age in the policy); the first wins.", "Remove the second one."},
  ReasonInfo{"sts-policy-too-large", sts, "E", "RFC 8461 §3.3", "The policy is larger than 64 KiB or has more than 4096 lines; it is not read.", "Serve a policy of a few lines."},
  ReasonInfo{"sts-policy-syntax", sts, "E", "RFC 8461 §3.2", "A policy line is not \"key: value\" (a key of letters, digits, '_', '-', '.' directly followed by ':', and a value without control characters); the policy is invalid.", "Write each line as key: value, ending in CRLF or LF."},
  ReasonInfo{"sts-policy-blank-line", sts, "W", "RFC 8461 §3.2", "The policy holds an empty line, which its grammar does not have; danekit skips it, a strict sender may reject the policy.", "Remove empty lines from the policy."},
  ReasonInfo{"sts-policy-version", sts, "E", "RFC 8461 §3.2", "The policy has no version line, or its version is not STSv1 (case-sensitive).", "Begin the policy with version: STSv1."},
  ReasonInfo{"sts-policy-mode", sts, "E", "RFC 8461 §3.2", "The policy has no mode line, or its mode is not enforce, testing or none (lower case).", "Add mode: testing, then mode: enforce once the reports are clean."},
  ReasonInfo{"sts-max-age-range", sts, "E", "RFC 8461 §3.2", "The policy has no max_age line, or max_age is not a whole number of seconds from 0 to 31557600 (at most 10 digits).", "Set max_age to the seconds a sender may cache the policy, e.g. 604800 (a week) or more."},
  ReasonInfo{"sts-mx-missing", sts, "E", "RFC 8461 §3.2", "The policy has no mx line while its mode is not none; it covers no MX host.", "Add one mx line per MX host or pattern (`*.example.net`)."},
  ReasonInfo{"sts-mx-pattern-invalid", sts, "E", "RFC 8461 §3.2, §4.1", "An mx value is not a domain name with an optional `*.` in front: a `*` elsewhere, an empty label, a non-ASCII byte.", "Write host names, or `*.` followed by a domain, in A-labels (xn--)."},
  ReasonInfo{"sts-mx-not-covered", sts, "E/W", "RFC 8461 §4.1", "An MX host matches no mx pattern of the policy: an MTA-STS sender in enforce mode does not deliver to it.", "Add the host, or a `*.` pattern for its parent domain, to the policy, and change the id."},
  ReasonInfo{"sts-wildcard-depth", sts, "W", "RFC 8461 §4.1", "A `*.` pattern nearly covers an MX host, but `*.` stands for exactly one leftmost label: `*.example.com` covers mail.example.com, not example.com nor a.b.example.com.", "Add the host itself, or a pattern for its parent domain."},
  // --- MTA-STS inside check (src/policy/sts_policy.cc)
  ReasonInfo{"sts-lookup-failed", sts, "W", "RFC 8461 §3.3", "The TXT lookup at `_mta-sts.DOMAIN` or `_smtp._tls.DOMAIN` failed (SERVFAIL, timeout, DNSSEC bogus); a sender without a cached policy applies none, and sends no reports.", "Make sure every name server of the zone answers the TXT query (danekit dnssec DOMAIN)."},
  ReasonInfo{"sts-fetch-failed", sts, "E", "RFC 8461 §3.3", "The policy at https://mta-sts.DOMAIN/.well-known/mta-sts.txt could not be fetched (no address, no connection, timeout, TLS failure, a status other than 200, too large); senders without a cached policy apply none. The text says which.", "Serve the policy over HTTPS on port 443 of mta-sts.DOMAIN with status 200."},
  ReasonInfo{"sts-redirect", sts, "E", "RFC 8461 §3.3", "The policy host answered with a redirect; senders must not follow it, so they get no policy.", "Serve the policy itself at /.well-known/mta-sts.txt on mta-sts.DOMAIN, not a redirect."},
  ReasonInfo{"sts-policy-host-invalid", sts, "E", "RFC 8461 §3.3", "The certificate of mta-sts.DOMAIN does not validate under the Web PKI for that name; senders do not read the policy.", "Give mta-sts.DOMAIN a certificate from a public CA that names it (ACME)."},
  ReasonInfo{"sts-content-type", sts, "W", "RFC 8461 §3.2", "The policy is served with a media type other than text/plain; strict senders may reject it.", "Serve the policy as text/plain."},
  ReasonInfo{"sts-webpki-invalid", sts, "E/W", "RFC 8461 §4.2", "The certificate an MX address serves does not validate under the Web PKI for the MX host name (untrusted issuer, another name, expired, TLS below 1.2): under enforce, MTA-STS senders do not deliver to it (an error); under testing they only report it (a warning).", "Serve a certificate from a public CA that names the MX host, over TLS 1.2 or later."},
  ReasonInfo{"sts-dane-disagree", sts, "W", "RFC 8461 §2", "DANE and MTA-STS disagree about an MX host: one authenticates it and the other rejects it, so senders of one kind deliver and senders of the other defer. The text names them.", "Make the host pass both: a certificate that names it from a public CA, with TLSA records for its key, and the host in the policy."},
  ReasonInfo{"sts-id-stale", sts, "W", "RFC 8461 §3.1", "The live policy is not the one its TXT id was made for: the body changed without an id change, so senders that cached the policy keep the old one (danekit mta-sts generate --check).", "Publish the TXT record with the id of the new policy (danekit mta-sts generate)."},
  ReasonInfo{"tlsrpt-missing", sts, "I", "RFC 8460 §3", "No TXT record beginning with v=TLSRPTv1 at `_smtp._tls.DOMAIN`: senders send no TLS reports.", "Publish \"v=TLSRPTv1; rua=mailto:tls-reports@DOMAIN\" to learn about failures."},
  ReasonInfo{"tlsrpt-multiple-records", sts, "E", "RFC 8460 §3", "More than one TXT record at `_smtp._tls.DOMAIN` begins with v=TLSRPTv1; senders then send no reports.", "Keep exactly one v=TLSRPTv1 record."},
  ReasonInfo{"tlsrpt-invalid", sts, "E", "RFC 8460 §3", "The v=TLSRPTv1 record breaks the record syntax (fields separated by ';', a required rua= list of mailto: or https: URIs separated by ',', '!' and ',' percent-encoded); senders ignore it. The text says where.", "Publish \"v=TLSRPTv1; rua=mailto:user@domain\" (more URIs separated by ',')."},
  ReasonInfo{"tlsrpt-rua-unsupported", sts, "W", "RFC 8460 §3", "A rua URI has a scheme other than mailto: or https:; reporters skip it.", "Use mailto: or https: URIs."},
  ReasonInfo{"tlsrpt-near-miss", sts, "W", "RFC 8460 §3", "A TXT record at `_smtp._tls.DOMAIN` looks meant as a TLS-RPT record but is discarded: it does not begin with exactly v=TLSRPTv1.", "Begin the record with \"v=TLSRPTv1;\" exactly."},
  ReasonInfo{"tlsrpt-duplicate-field", sts, "W", "RFC 8460 §3", "The record has two rua fields; the first wins.", "Put all URIs in one rua field, separated by ','."},
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
