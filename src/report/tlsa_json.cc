// JSON of `danekit tlsa generate` (schema danekit.tlsa-generate/1) and
// `danekit tlsa verify` (danekit.tlsa-verify/1), docs/json.md: the one writer
// of each, built from the shared shapes (report/shapes.h).
#include <fmt/format.h>

#include "danekit/tlsa_generate.h"
#include "report/shapes.h"

namespace danekit {

std::string generate_to_json(const GenerateOutput& g) {
  using report::json;
  json out = report::envelope("danekit.tlsa-generate/1");
  out["source"] = g.source;
  json owner, zone, port;
  if (!g.tlsa_base.empty()) {
    // tlsa_owner() normalizes; a base that does not normalize has no owner.
    if (auto o = tlsa_owner(g.tlsa_base, g.port)) {
      zone = format_record(g.generated.record, *o, g.ttl, RecordFormat::zone);
      o->pop_back();  // JSON names carry no trailing dot, as in every other output
      owner = *o;
      port = g.port;
    }
  }
  out["tlsa_base"] = owner.is_null() ? json() : json(g.tlsa_base);
  out["port"] = port;
  out["owner"] = owner;
  out["ttl"] = g.ttl ? json(*g.ttl) : json();
  out["record"] = report::tlsa_record(g.generated.record);
  out["zone"] = zone;
  out["warnings"] = g.generated.warnings;
  return report::dump(out);
}

std::string verify_to_json(const VerifyReport& r) {
  using report::json;
  json out = report::envelope("danekit.tlsa-verify/1");
  out["tlsa_base"] = report::optional_string(r.tlsa_base);
  out["owner"] = report::optional_string(r.owner);
  out["records_from"] = r.records_from;
  out["checked_against"] = r.checked_against;
  out["dns"] = r.dns ? report::dns_answer(*r.dns) : json();
  json records = json::array();
  for (const auto& v : r.records) {
    json item = report::record_finding(v.finding);
    item["verdict"] = v.verdict;
    item["detail"] = v.detail;
    records.push_back(std::move(item));
  }
  out["records"] = std::move(records);
  json servers = json::array();
  for (const auto& p : r.servers)
    servers.push_back({{"address", p.address},
                       {"outcome", to_string(p.outcome)},
                       {"stage", p.stage},
                       {"detail", p.detail},
                       {"tls_version", report::optional_string(p.tls_version)},
                       {"cipher", report::optional_string(p.cipher)},
                       {"matched", report::matched(p.matched, p.match_depth)},
                       {"chain", report::chain(p.chain)}});
  out["servers"] = std::move(servers);
  out["rrset"] = {{"verdict", to_string(r.verdict)}, {"detail", r.verdict_detail}};
  out["warnings"] = r.warnings;
  return report::dump(out);
}

}  // namespace danekit
