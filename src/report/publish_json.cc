// JSON of `danekit mta-sts generate` and `danekit reasons` (report/writers.h).
#include "report/shapes.h"
#include "report/writers.h"

namespace danekit::report {

std::string mta_sts_generate_json(const MtaStsGenerated& g) {
  json out = envelope("danekit.mta-sts-generate/1");
  out["domain"] = g.domain;
  out["mode"] = g.mode;
  out["max_age"] = g.max_age;
  out["mx"] = g.mx;
  out["policy_url"] = g.policy_url;
  out["policy"] = g.policy;
  out["id"] = g.id;
  out["txt"] = {{"name", g.txt_name}, {"value", g.txt_value}};
  json current = json::array();
  for (const auto& c : g.current_mx)
    current.push_back({{"host", c.host}, {"covered", c.covered}, {"pattern", optional_string(c.pattern)}});
  out["current_mx"] = std::move(current);
  json warnings = json::array();
  for (const auto& w : g.warnings) warnings.push_back(reason(w));
  out["warnings"] = std::move(warnings);
  const auto& l = g.live;
  auto opt_bool = [](const std::optional<bool>& b) { return b ? json(*b) : json(); };
  out["live"] = l.checked ? json{{"state", l.state},
                                 {"record", l.record},
                                 {"id", optional_string(l.id)},
                                 {"fetch", l.fetch},
                                 {"detail", optional_string(l.detail)},
                                 {"body_matches", opt_bool(l.body_matches)},
                                 {"id_matches", opt_bool(l.id_matches)}}
                          : json();
  return dump(out);
}

Reason catalog_reason(std::string_view code, std::string text, std::string host) {
  Reason r;
  r.code = std::string(code);
  r.text = std::move(text);
  r.host = std::move(host);
  r.severity = Severity::warning;
  if (const auto* info = find_reason(code)) {
    r.rfc = std::string(info->rfc);
    r.fix = std::string(info->fix);
    if (info->severity == "E") r.severity = Severity::error;
    if (info->severity == "I") r.severity = Severity::info;
  }
  return r;
}

std::string reasons_json(const std::vector<const ReasonInfo*>& rows) {
  json out = envelope("danekit.reasons/1");
  json list = json::array();
  for (const auto* r : rows)
    list.push_back({{"code", r->code},
                    {"group", r->group},
                    {"severity", r->severity},
                    {"rfc", r->rfc},
                    {"meaning", r->meaning},
                    {"fix", r->fix.empty() ? json() : json(r->fix)}});
  out["reasons"] = std::move(list);
  return dump(out);
}

}  // namespace danekit::report
