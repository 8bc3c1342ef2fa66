// JSON output, schema danekit.check/1 (docs/json.md).
#include "danekit/report.h"
#include "report/shapes.h"

namespace danekit {

namespace {

using report::json;
using report::optional_string;

json address_json(const ProbeResult &p) {
  json chain = report::chain(p.chain);
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
  if (p.matched) j["matched"] = report::matched(p.matched, p.match_depth);
  if (!p.matched_name.empty()) j["matched_name"] = p.matched_name;
  if (!p.failure.empty()) j["failure"] = p.failure;
  j["pkix"] = to_string(p.pkix);
  j["pkix_detail"] = p.pkix_detail.empty() ? json() : json(p.pkix_detail);
  if (p.alternate) {
    const auto &a = *p.alternate;
    json alt{
        {"offer", a.offer}, {"outcome", to_string(a.outcome)}, {"detail", a.detail}, {"chain", report::chain(a.chain)}};
    if (a.matched) alt["matched"] = report::matched(a.matched, a.match_depth);
    j["alternate"] = alt;
  }
  return j;
}

json findings_json(const CheckReport &r, std::string_view prefix) {
  json out = json::array();
  for (const auto &x : r.reasons)
    if (x.code.rfind(prefix, 0) == 0) out.push_back(report::reason(x));
  return out;
}

json mta_sts_json(const CheckReport &r) {
  const auto &m = r.mta_sts;
  json policy{{"url", optional_string(m.policy_url)},
              {"addresses", m.policy_addresses},
              {"fetch", m.fetch},
              {"detail", m.fetch_detail},
              {"address", optional_string(m.fetch_address)},
              {"http_status", m.http_status ? json(m.http_status) : json()},
              {"content_type", optional_string(m.content_type)},
              {"location", optional_string(m.location)},
              {"valid", m.policy_valid}};
  return json{{"checked", m.checked},
              {"mode", m.mode ? std::string(sts::to_string(*m.mode)) : std::string("absent")},
              {"id", optional_string(m.id)},
              {"max_age", m.max_age ? json(*m.max_age) : json()},
              {"mx", m.mx},
              {"record",
               {{"status", sts::to_string(m.record_status)},
                {"text", optional_string(m.record)},
                {"dns", m.checked ? report::dns_answer(m.record_dns) : json()}}},
              {"policy", policy},
              {"findings", findings_json(r, "sts-")}};
}

json tls_rpt_json(const CheckReport &r) {
  const auto &t = r.tls_rpt;
  return json{{"checked", t.checked},
              {"status", sts::to_string(t.status)},
              {"rua", t.rua},
              {"record", optional_string(t.record)},
              {"dns", t.checked ? report::dns_answer(t.dns) : json()},
              {"findings", findings_json(r, "tlsrpt-")}};
}

}  // namespace

std::string to_json(const CheckReport &r) {
  json mx = json::array();
  for (const auto &m : r.mx) {
    json records = json::array(), addresses = json::array(), reasons = json::array(), dns = json::array();
    for (const auto &f : m.records) records.push_back(report::record_finding(f));
    for (const auto &p : m.addresses) addresses.push_back(address_json(p));
    for (const auto &x : m.reasons) reasons.push_back(report::reason(x));
    for (const auto &d : m.dns) dns.push_back(report::dns_answer(d));
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
               {"mta_sts_covered", m.mta_sts_covered ? json(*m.mta_sts_covered) : json()},
               {"mta_sts_pattern", optional_string(m.mta_sts_pattern)},
               {"reasons", reasons}};
    mx.push_back(entry);
  }
  json reasons = json::array();
  for (const auto &x : r.reasons) reasons.push_back(report::reason(x));
  json out = report::envelope("danekit.check/1");
  out.update(json{{"domain", r.domain},
                  {"verdict", to_string(r.verdict)},
                  {"delivery", to_string(r.delivery)},
                  {"delivery_by_sender",
                   {{"dane", to_string(r.delivery)},
                    {"mta-sts", to_string(r.by_sender.mta_sts)},
                    {"dane+mta-sts", to_string(r.by_sender.both)}}},
                  {"determined", r.determined},
                  {"exit_status", exit_status_for(r)},
                  {"checked_at", iso8601(r.checked_at)},
                  {"elapsed_ms", r.elapsed_ms},
                  {"mx_answer", report::dns_answer(r.mx_answer)},
                  {"mx", mx},
                  {"mta_sts", mta_sts_json(r)},
                  {"tls_rpt", tls_rpt_json(r)},
                  {"reasons", reasons}});
  if (r.dnssec) {
    json findings = json::array();
    for (const auto &f : *r.dnssec) findings.push_back(report::dnssec_finding(f));
    out["dnssec"] = {{"findings", findings}};
  }
  return report::dump(out);
}

}  // namespace danekit
