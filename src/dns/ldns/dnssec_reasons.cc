// The DNSSEC audit's reason catalog (danekit/dnssec_audit.h): one row per code.
// docs/reasons.md, section "DNSSEC audit (danekit dnssec)", documents each row;
// tests/unit/dnssec_audit_test.cc checks that every code appears there.
#include "danekit/dnssec_audit.h"

namespace danekit {

const std::vector<DnssecReason>& dnssec_reasons() {
  static const std::vector<DnssecReason> table = {
      {"ns-rrsig-expired", Severity::error, "RFC 4035 §5.3.1",
       "{zone} on {servers}: expired signatures: {detail}; validators treat these answers as bogus.",
       "Re-sign {zone} and check that every secondary loads the new copy (NOTIFY, IXFR/AXFR to {servers}); run the "
       "signer on a schedule that re-signs well before expiry."},
      {"rrsig-not-yet-valid", Severity::error, "RFC 4035 §5.3.1",
       "{zone} on {servers}: signatures not valid yet (inception in the future): {detail}.",
       "Check the signer's clock (NTP) and its inception offset; re-sign {zone} with an inception in the past."},
      {"rrsig-bogus", Severity::error, "RFC 4035 §5.3.3",
       "{zone} on {servers}: signatures that do not verify over the data: {detail}.",
       "The data was changed after signing or the server mixes copies: re-sign {zone} and reload it on {servers}."},
      {"rrsig-no-key", Severity::error, "RFC 4035 §5.3.1",
       "{zone} on {servers}: signatures made with a key the zone does not publish: {detail}.",
       "Publish the signing key in the DNSKEY RRset of {zone}, or re-sign with a published key (a ZSK rollover "
       "that removed the key too early)."},
      {"rrsig-missing", Severity::error, "RFC 4035 §3.1.1",
       "{zone} on {servers}: unsigned data in a signed zone: {detail}.",
       "Sign {zone} completely (every authoritative RRset) and make sure {servers} serve the signed copy and "
       "answer with DO=1 including RRSIGs."},
      {"rrsig-expiring", Severity::warning, "RFC 4034 §3.1.5", "{zone} on {servers}: signatures expire soon: {detail}.",
       "Check that the signer for {zone} re-signs automatically and that secondaries transfer the re-signed zone "
       "before the signatures expire."},
      {"denial-unsigned", Severity::error, "RFC 4035 §3.1.3",
       "{zone} on {servers}: a denial without signed NSEC/NSEC3 records: {detail}.",
       "Sign {zone} with NSEC or NSEC3 and serve the signed copy on {servers}."},
      {"ds-no-match", Severity::error, "RFC 4035 §5.2",
       "No DS record for {zone} in its parent matches a DNSKEY served by {servers} ({detail}): the chain of "
       "trust is broken and every answer from {zone} is bogus.",
       "Publish at the registrar/parent the DS of the zone's current KSK (e.g. ldns-key2ds or dnssec-dsfromkey "
       "output), or put the key the DS describes back into the DNSKEY RRset."},
      {"ds-stale", Severity::warning, "RFC 6781 §4.1.2",
       "The parent of {zone} still publishes a DS for a key that is not in the DNSKEY RRset on {servers} ({detail}); "
       "another DS "
       "matches, so validation still works.",
       "Remove the stale DS at the registrar/parent to finish the KSK rollover."},
      {"dnskey-unsigned-by-ds-key", Severity::error, "RFC 4035 §5.2",
       "{zone} on {servers}: the DNSKEY RRset is not signed by a key that a DS points at ({detail}).",
       "Sign the DNSKEY RRset with the KSK whose DS is in the parent (the signer must use the KSK for DNSKEY), "
       "or publish the DS of the key that does sign it."},
      {"dnskey-missing", Severity::error, "RFC 4035 §2.1",
       "{zone} on {servers}: no DNSKEY RRset, but the parent publishes a DS ({detail}).",
       "Serve the signed zone (with its DNSKEY RRset) on {servers}, or remove the DS at the parent if {zone} is "
       "meant to be unsigned."},
      {"trust-anchor-no-match", Severity::error, "RFC 4035 §5",
       "No trust anchor matches a root DNSKEY served by {servers} ({detail}).",
       "Use a trust anchor for the root you query (--trust-anchor), or update the built-in one."},
      {"nsec3-iterations", Severity::warning, "RFC 9276 §3.1",
       "{zone} uses NSEC3 with {detail}; RFC 9276 asks for 0 extra iterations. Validators may treat denials "
       "above 100 iterations as insecure or SERVFAIL; Debian 12's unbound and BIND treat them as insecure above "
       "150, so a TLSA RRset synthesised from a wildcard then loses DANE.",
       "Re-sign {zone} with NSEC3 iterations 0 and an empty salt (e.g. ldns-signzone -n -t 0, BIND "
       "nsec3param iterations 0 salt-length 0)."},
      {"ns-serial-mismatch", Severity::warning, "RFC 1996 §1",
       "{zone} on {servers}: an older SOA serial than on the other servers: {detail}.",
       "Make the primary NOTIFY {servers} and check that zone transfers to them succeed (ACLs, TSIG, "
       "firewall); a secondary on an old copy serves old records and, in time, expired signatures."},
      {"ns-tlsa-inconsistent", Severity::error, "RFC 7672 §2.2",
       "The name servers of {zone} disagree on a TLSA RRset: {detail}; senders see either one, depending on the "
       "server they ask.",
       "Bring {servers} up to date with the primary (NOTIFY, zone transfer), and only then change the "
       "certificate."},
      {"ns-timeout", Severity::error, "RFC 1034 §4.3.1",
       "{zone} on {servers}: no answer within the timeout ({detail}).",
       "Check that the name server on {servers} is running and reachable on port 53 over UDP and TCP, or remove "
       "it from the NS RRset and the parent's delegation."},
      {"ns-unreachable", Severity::error, "RFC 1034 §4.3.1",
       "{zone} on {servers}: the server cannot be reached ({detail}).",
       "Start the name server on {servers} or fix the network path to it, or remove it from the NS RRset and "
       "the parent's delegation."},
      {"ns-tcp-failed", Severity::warning, "RFC 7766 §5",
       "{zone} on {servers}: answers over UDP but not over TCP ({detail}); large DNSSEC answers need TCP.",
       "Allow DNS over TCP port 53 to {servers}."},
      {"ns-not-authoritative", Severity::error, "RFC 1034 §4.3.1",
       "{zone} on {servers}: delegated to, but no authoritative answer ({detail}): a lame delegation.",
       "Load {zone} on {servers}, or remove them from the NS RRset and the parent's delegation."},
      {"ns-no-address", Severity::warning, "RFC 1034 §4.2.2",
       "Name servers of {zone} have no address that could be found: {detail}.",
       "Publish A/AAAA records (and glue in the parent for names inside {zone}) for these name servers, or "
       "remove them from the NS RRset."},
      {"ns-malformed", Severity::error, "RFC 1035 §4.1",
       "{zone} on {servers}: replies that cannot be parsed ({detail}).",
       "Fix or replace the name server software on {servers}."},
  };
  return table;
}

}  // namespace danekit
