// JSON output, schema danekit.check/1 (docs/json.md).
#include <nlohmann/json.hpp>

#include "danekit/report.h"
#include "util/hex.h"

namespace danekit {

namespace {

using json = nlohmann::ordered_json;

json dns_json(const DnsStatus& s) {
  json j{{"name", s.name},
         {"type", s.type},
         {"security", to_string(s.security)},
         {"answer", to_string(s.kind)},
         {"ttl", s.ttl}};
  if (!s.detail.empty()) j["detail"] = s.detail;
  if (!s.cname_targets.empty()) j["cname"] = s.cname_targets;
  return j;
}

json reason_json(const Reason& r) {
  json j{{"code", r.code}, {"severity", to_string(r.severity)}, {"rfc", r.rfc}, {"text", r.text}};
  if (!r.fix.empty()) j["fix"] = r.fix;
  if (!r.host.empty()) j["host"] = r.host;
  if (!r.address.empty()) j["address"] = r.address;
  return j;
}

json record_json(const RecordFinding& f) {
  json matches = json::array();
  for (const auto& m : f.matches) {
    json one{{"address", m.address}, {"depth", m.depth}};
    if (!m.key_type.empty()) one["key"] = m.key_type;
    matches.push_back(one);
  }
  json j{{"usage", f.record.usage},
         {"selector", f.record.selector},
         {"mtype", f.record.mtype},
         {"data", to_hex(f.record.data)},
         {"text", to_presentation(f.record)},
         {"parameters", describe_parameters(f.record)},
         {"usable", !f.unusable.has_value()},
         {"status", to_string(f.status)},
         {"matches", matches}};
  if (f.unusable) {
    j["unusable_reason"] = *f.unusable;
    j["unusable_code"] = to_string(f.unusable_kind);
  }
  if (!f.note.empty()) j["note"] = f.note;
  return j;
}

json chain_json(const std::vector<CertInfo>& certs) {
  json chain = json::array();
  for (std::size_t d = 0; d < certs.size(); ++d) {
    const auto& c = certs[d];
    chain.push_back({{"depth", d},
                     {"subject", c.subject},
                     {"issuer", c.issuer},
                     {"not_before", iso8601(c.not_before)},
                     {"not_after", iso8601(c.not_after)},
                     {"key", c.key_type},
                     {"dns_names", c.dns_names},
                     {"ca", c.is_ca},
                     {"spki_sha256", c.spki_sha256}});
  }
  return chain;
}

json address_json(const ProbeResult& p) {
  json chain = chain_json(p.chain);
  json j{{"address", p.address},
         {"outcome", to_string(p.outcome)},
         {"stage", p.stage},
         {"detail", p.detail},
         {"starttls", p.starttls_offered},
         {"chain", chain},
         {"elapsed_ms", p.elapsed.count()}};
  if (!p.banner.empty()) j["banner"] = p.banner;
  if (!p.tls_version.empty()) j["tls_version"] = p.tls_version;
  if (!p.cipher.empty()) j["cipher"] = p.cipher;
  if (p.plaintext_injection) j["plaintext_injection"] = true;
  if (!p.verify_error.empty()) j["verify_error"] = p.verify_error;
  if (p.matched) j["matched"] = {{"record", to_presentation(*p.matched)}, {"depth", p.match_depth}};
  if (!p.matched_name.empty()) j["matched_name"] = p.matched_name;
  if (!p.failure.empty()) j["failure"] = p.failure;
  if (p.alternate) {
    const auto& a = *p.alternate;
    json alt{
        {"offer", a.offer}, {"outcome", to_string(a.outcome)}, {"detail", a.detail}, {"chain", chain_json(a.chain)}};
    if (a.matched) alt["matched"] = {{"record", to_presentation(*a.matched)}, {"depth", a.match_depth}};
    j["alternate"] = alt;
  }
  return j;
}

}  // namespace

std::string to_json(const CheckReport& r) {
  json mx = json::array();
  for (const auto& m : r.mx) {
    json records = json::array(), addresses = json::array(), reasons = json::array(), dns = json::array();
    for (const auto& f : m.records) records.push_back(record_json(f));
    for (const auto& p : m.addresses) addresses.push_back(address_json(p));
    for (const auto& x : m.reasons) reasons.push_back(reason_json(x));
    for (const auto& d : m.dns) dns.push_back(dns_json(d));
    json entry{{"host", m.host},
               {"preference", m.preference},
               {"implicit", m.implicit},
               {"cname", m.is_cname},
               {"tlsa_base", m.tlsa_base},
               {"dnssec",
                {{"mx", to_string(r.mx_answer.security)},
                 {"address", to_string(m.address_security)},
                 {"tlsa", to_string(m.tlsa_security)}}},
               {"tlsa_ttl", m.tlsa_ttl},
               {"dns", dns},
               {"records", records},
               {"dane", to_string(m.dane)},
               {"addresses", addresses},
               {"reasons", reasons}};
    mx.push_back(entry);
  }
  json reasons = json::array();
  for (const auto& x : r.reasons) reasons.push_back(reason_json(x));
  json out{{"schema", "danekit.check/1"},
           {"domain", r.domain},
           {"verdict", to_string(r.verdict)},
           {"delivery", to_string(r.delivery)},
           {"determined", r.determined},
           {"exit_status", exit_status_for(r)},
           {"checked_at", iso8601(r.checked_at)},
           {"elapsed_ms", r.elapsed_ms},
           {"mx_answer", dns_json(r.mx_answer)},
           {"mx", mx},
           {"reasons", reasons}};
  if (r.dnssec) {
    json findings = json::array();
    for (const auto& f : *r.dnssec)
      findings.push_back({{"code", f.code},
                          {"severity", to_string(f.severity)},
                          {"zone", f.zone},
                          {"server", f.server},
                          {"rfc", f.rfc},
                          {"text", f.text},
                          {"fix", f.fix}});
    out["dnssec"] = {{"findings", findings}};
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace danekit
