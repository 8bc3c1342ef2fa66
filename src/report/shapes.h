// The shared sub-objects of danekit's JSON, one writer each, so that a DNS
// answer, a TLSA record, a record finding and its matches, a certificate of a
// chain and a reason have the same keys wherever they appear (docs/json.md
// "Shared shapes", docs/schema/defs.json). Every key is always present: an
// absent value is null, a list is an array even with one element or none, so a
// consumer (and the JSON Schemas) never sees a shape that depends on counts.
//
// Every top-level object starts with envelope(schema): "schema" (the output's
// schema id, e.g. "danekit.tlsa-generate/1") and "danekit" (the version string).
//
// Example:
//   auto out = report::envelope("danekit.tlsa-verify/1");
//   out["dns"] = report::dns_answer(status);
//   std::string line = report::dump(out);   // one line, no newline
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "danekit/cert.h"
#include "danekit/probe.h"
#include "danekit/report.h"
#include "danekit/tlsa.h"
#include "danekit/version.h"

namespace danekit::report {

using json = nlohmann::ordered_json;

// {"schema": schema, "danekit": version}; the caller appends its fields. Pure
// writers that take the version as a parameter (tlsrpt) pass it on.
json envelope(std::string_view schema, std::string_view version = kVersion);

// {"name","type","security","kind","ttl","detail","cname_targets"}: `kind` is
// data | nodata | nxdomain | failure, `detail` null when empty.
json dns_answer(const DnsStatus& s);

// {"usage","selector","mtype","data","text","parameters","usage_name",
//  "selector_name","mtype_name"}: `text` is "3 1 1 <hex>", `parameters`
// "DANE-EE(3) SPKI(1) SHA2-256(1)", the *_name the bare RFC 7218 names.
json tlsa_record(const TlsaRecord& r);

// {"address","depth","key"}: where a record matched (an address, or for
// `tlsa verify` against a file the input it read), the chain depth, and the
// key type of that chain's leaf (null when not known).
json record_match(const RecordMatch& m);

// {"record": tlsa_record, "usable", "unusable_code", "unusable_reason",
//  "status", "matches": [record_match], "note"}: what one record did.
json record_finding(const RecordFinding& f);

// {"depth","subject","issuer","not_before","not_after","key","dns_names","ca",
//  "spki_sha256"}: one certificate of a chain, leaf at depth 0.
json chain_element(const CertInfo& c, std::size_t depth);
json chain(const std::vector<CertInfo>& certs);  // array of chain_element

// {"record": "3 1 1 <hex>", "depth"} of what OpenSSL matched, or null.
json matched(const std::optional<TlsaRecord>& record, int depth);

// {"code","severity","rfc","text","fix","host","address"}: fix, host and
// address null when empty.
json reason(const Reason& r);
// {"code","severity","rfc","text","fix","zone","server"}: a finding of the
// per-nameserver DNSSEC audit (danekit dnssec, check's dnssec.findings).
json dnssec_finding(const DnssecFinding& f);

// null for an empty string, else the string.
json optional_string(const std::string& s);

// One line, no newline; bytes that are not UTF-8 are replaced (U+FFFD), never
// an exception: peer-controlled text ends up in these objects.
std::string dump(const json& j);

}  // namespace danekit::report
