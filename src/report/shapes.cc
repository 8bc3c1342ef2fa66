// The shared sub-objects of danekit's JSON (shapes.h, docs/schema/defs.json).
#include "report/shapes.h"

#include "util/hex.h"

namespace danekit::report {

namespace {

// "DANE-EE(3)" -> "DANE-EE"; an unassigned value keeps its "unassigned(7)".
std::string bare_name(const std::string& named) {
  if (named.starts_with("unassigned")) return named;
  return named.substr(0, named.find('('));
}

}  // namespace

json envelope(std::string_view schema, std::string_view version) {
  return json{{"schema", schema}, {"danekit", version}};
}

json optional_string(const std::string& s) { return s.empty() ? json() : json(s); }

json dns_answer(const DnsStatus& s) {
  return json{{"name", s.name},
              {"type", s.type},
              {"security", to_string(s.security)},
              {"kind", to_string(s.kind)},
              {"ttl", s.ttl},
              {"detail", optional_string(s.detail)},
              {"cname_targets", s.cname_targets}};
}

json tlsa_record(const TlsaRecord& r) {
  return json{{"usage", r.usage},
              {"selector", r.selector},
              {"mtype", r.mtype},
              {"data", to_hex(r.data)},
              {"text", to_presentation(r)},
              {"parameters", describe_parameters(r)},
              {"usage_name", bare_name(usage_name(r.usage))},
              {"selector_name", bare_name(selector_name(r.selector))},
              {"mtype_name", bare_name(mtype_name(r.mtype))}};
}

json record_match(const RecordMatch& m) {
  return json{{"address", m.address}, {"depth", m.depth}, {"key", optional_string(m.key_type)}};
}

json record_finding(const RecordFinding& f) {
  json matches = json::array();
  for (const auto& m : f.matches) matches.push_back(record_match(m));
  return json{{"record", tlsa_record(f.record)},
              {"usable", !f.unusable.has_value()},
              {"unusable_code", f.unusable ? json(to_string(f.unusable_kind)) : json()},
              {"unusable_reason", f.unusable ? json(*f.unusable) : json()},
              {"status", to_string(f.status)},
              {"matches", matches},
              {"note", optional_string(f.note)}};
}

json chain_element(const CertInfo& c, std::size_t depth) {
  return json{{"depth", depth},
              {"subject", c.subject},
              {"issuer", c.issuer},
              {"not_before", iso8601(c.not_before)},
              {"not_after", iso8601(c.not_after)},
              {"key", c.key_type},
              {"dns_names", c.dns_names},
              {"ca", c.is_ca},
              {"spki_sha256", c.spki_sha256}};
}

json chain(const std::vector<CertInfo>& certs) {
  json out = json::array();
  for (std::size_t d = 0; d < certs.size(); ++d) out.push_back(chain_element(certs[d], d));
  return out;
}

json matched(const std::optional<TlsaRecord>& record, int depth) {
  if (!record) return json();
  return json{{"record", to_presentation(*record)}, {"depth", depth}};
}

json reason(const Reason& r) {
  return json{{"code", r.code},
              {"severity", to_string(r.severity)},
              {"rfc", r.rfc},
              {"text", r.text},
              {"fix", optional_string(r.fix)},
              {"host", optional_string(r.host)},
              {"address", optional_string(r.address)}};
}

json dnssec_finding(const DnssecFinding& f) {
  return json{{"code", f.code},    {"severity", to_string(f.severity)},
              {"rfc", f.rfc},      {"text", f.text},
              {"fix", f.fix},      {"zone", f.zone},
              {"server", f.server}};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace danekit::report
