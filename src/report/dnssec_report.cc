// Output of `danekit dnssec`: JSON (schema danekit.dnssec/1, docs/json.md) and
// text (docs/cli.md). The one writer of each.
#include <fmt/format.h>
#include "danekit/dnssec_audit.h"
#include "report/shapes.h"
#include "util/hex.h"

namespace danekit {

namespace {

using report::json;

const char* mark(Severity s) { return s == Severity::error ? "x" : s == Severity::warning ? "!" : "-"; }

}  // namespace

std::string to_json(const DnssecReport& r) {
  json zones = json::array();
  for (const auto& z : r.zones) {
    json servers = json::array();
    for (const auto& s : z.servers) {
      json j{{"name", s.name}, {"address", s.address}, {"udp", s.udp}, {"tcp", s.tcp}};
      j["soa_serial"] = s.soa_serial ? json(*s.soa_serial) : json(nullptr);
      j["serves"] = s.serves;
      servers.push_back(j);
    }
    json ds = json::array();
    for (const auto& d : z.ds)
      ds.push_back({{"key_tag", d.key_tag},
                    {"algorithm", d.algorithm},
                    {"digest_type", d.digest_type},
                    {"digest", d.digest},
                    {"matches", d.matches}});
    json keys = json::array();
    for (const auto& k : z.dnskeys)
      keys.push_back(
          {{"key_tag", k.key_tag}, {"flags", k.flags}, {"algorithm", k.algorithm}, {"signs_dnskey", k.signs_dnskey}});
    zones.push_back({{"name", z.name},
                     {"parent", z.parent.empty() ? json(nullptr) : json(z.parent)},
                     {"status", z.status},
                     {"servers", servers},
                     {"ds", ds},
                     {"dnskeys", keys}});
  }
  json findings = json::array();
  for (const auto& f : r.findings) findings.push_back(report::dnssec_finding(f));
  json out = report::envelope("danekit.dnssec/1");
  out["domain"] = r.domain;
  out["audited_at"] = iso8601(r.audited_at);
  out["zones"] = std::move(zones);
  out["findings"] = std::move(findings);
  out["notes"] = r.notes;
  return report::dump(out);
}

std::string render_text(const DnssecReport& r) {
  std::string out;
  std::size_t errors = 0, warnings = 0;
  for (const auto& f : r.findings) (f.severity == Severity::error ? errors : warnings) += f.severity != Severity::info;
  out += fmt::format("{}  DNSSEC audit  {} error{}, {} warning{}  (at {})\n", r.domain, errors, errors == 1 ? "" : "s",
                     warnings, warnings == 1 ? "" : "s", iso8601(r.audited_at));
  for (const auto& z : r.zones) {
    out += fmt::format("  zone {}  {}{}\n", z.name, z.status, z.parent.empty() ? "" : "  (parent " + z.parent + ")");
    for (const auto& d : z.ds)
      out += fmt::format("    DS {} alg {} digest {}  {}\n", d.key_tag, d.algorithm, d.digest_type,
                         d.matches ? "matches a DNSKEY" : "matches no DNSKEY");
    for (const auto& k : z.dnskeys)
      out += fmt::format("    DNSKEY {} flags {} alg {}{}\n", k.key_tag, k.flags, k.algorithm,
                         k.signs_dnskey ? "  signs the DNSKEY RRset" : "");
    for (const auto& s : z.servers) {
      out += fmt::format("    {} {}  udp {}  tcp {}  serial {}\n", s.name, s.address, s.udp, s.tcp,
                         s.soa_serial ? std::to_string(*s.soa_serial) : "-");
      for (const auto& line : s.serves) out += "      " + line + "\n";
    }
  }
  if (!r.findings.empty()) out += "  Findings\n";
  for (const auto& f : r.findings) {
    out += fmt::format("    {} {} [{} {}]: {} ({})\n", mark(f.severity), f.code, f.zone, f.server, f.text, f.rfc);
    out += fmt::format("      fix: {}\n", f.fix);
  }
  if (r.findings.empty()) out += "  no findings\n";
  for (const auto& n : r.notes) out += "  note: " + n + "\n";
  // Names and texts come from the servers audited: never raw to a terminal.
  std::string safe;
  std::size_t start = 0;
  while (start < out.size()) {
    auto nl = out.find('\n', start);
    safe += sanitize_for_display(out.substr(start, nl - start)) + "\n";
    start = nl + 1;
  }
  return safe;
}

}  // namespace danekit
