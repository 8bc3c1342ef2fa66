#include "scan/summary.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "report/shapes.h"

namespace danekit::scan {

namespace {

using json = report::json;

constexpr Verdict kVerdicts[] = {Verdict::valid, Verdict::partial,        Verdict::invalid, Verdict::unusable,
                                 Verdict::none,  Verdict::dnssec_failure, Verdict::no_mail};
constexpr Delivery kDeliveries[] = {Delivery::authenticated, Delivery::encrypted, Delivery::opportunistic,
                                    Delivery::deferred, Delivery::undeliverable};

std::string counts_text(const std::map<std::string, std::uint64_t>& counts, const std::vector<std::string>& order) {
  std::string out;
  for (const auto& k : order) {
    auto it = counts.find(k);
    if (it == counts.end() || it->second == 0) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", k, it->second);
  }
  return out.empty() ? "-" : out;
}

std::vector<std::string> verdict_order() {
  std::vector<std::string> v;
  for (auto x : kVerdicts) v.emplace_back(to_string(x));
  return v;
}

std::vector<std::string> delivery_order() {
  std::vector<std::string> v;
  for (auto x : kDeliveries) v.emplace_back(to_string(x));
  return v;
}

json ordered_counts(const std::map<std::string, std::uint64_t>& counts, const std::vector<std::string>& order) {
  json out = json::object();
  for (const auto& k : order) out[k] = counts.count(k) ? counts.at(k) : 0;
  for (const auto& [k, v] : counts) {
    if (!out.contains(k)) out[k] = v;  // a value from a newer schema: keep it
  }
  return out;
}

}  // namespace

DomainResult domain_result(const CheckReport& report) {
  DomainResult r;
  r.verdict = std::string(to_string(report.verdict));
  r.delivery = std::string(to_string(report.delivery));
  r.determined = report.determined;
  std::set<std::string> codes;
  for (const auto& reason : report.reasons) codes.insert(reason.code);
  r.reason_codes.assign(codes.begin(), codes.end());
  std::set<std::string> hosts;
  for (const auto& m : report.mx) {
    if (m.implicit || !hosts.insert(m.host).second) continue;
    r.mx_dane.emplace_back(m.host, std::string(to_string(m.dane)));
  }
  return r;
}

tl::expected<DomainResult, std::string> domain_result_from_json(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected(std::string("not a JSON object"));
  if (j.value("schema", "") != "danekit.check/1") return tl::unexpected(std::string("not a danekit.check/1 object"));
  auto str = [](const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  DomainResult r;
  r.verdict = str(j, "verdict");
  r.delivery = str(j, "delivery");
  if (r.verdict.empty() || r.delivery.empty()) return tl::unexpected(std::string("verdict or delivery missing"));
  if (auto it = j.find("determined"); it != j.end() && it->is_boolean()) r.determined = it->get<bool>();
  std::set<std::string> codes;
  if (auto it = j.find("reasons"); it != j.end() && it->is_array()) {
    for (const auto& x : *it) {
      if (x.is_object() && !str(x, "code").empty()) codes.insert(str(x, "code"));
    }
  }
  r.reason_codes.assign(codes.begin(), codes.end());
  std::set<std::string> hosts;
  if (auto it = j.find("mx"); it != j.end() && it->is_array()) {
    for (const auto& m : *it) {
      if (!m.is_object() || m.value("implicit", false)) continue;
      std::string host = str(m, "host");
      if (host.empty() || !hosts.insert(host).second) continue;
      r.mx_dane.emplace_back(host, str(m, "dane"));
    }
  }
  return r;
}

Summary::Summary() {
  for (auto v : kVerdicts) verdicts_[std::string(to_string(v))] = 0;
  for (auto d : kDeliveries) deliveries_[std::string(to_string(d))] = 0;
}

void Summary::add(const DomainResult& r) {
  ++domains_;
  if (!r.determined) ++undetermined_;
  ++verdicts_[r.verdict];
  ++deliveries_[r.delivery];
  for (const auto& code : r.reason_codes) ++reasons_[code];
  for (const auto& [host, dane] : r.mx_dane) {
    auto it = hosts_.find(host);
    if (it == hosts_.end()) {
      if (hosts_.size() >= kMaxTrackedHosts) {
        ++untracked_;
        continue;
      }
      it = hosts_.emplace(host, HostCount{host, 0, {}}).first;
    }
    ++it->second.domains;
    ++it->second.dane[dane];
  }
}

std::vector<std::pair<std::string, std::uint64_t>> Summary::top_reasons(std::size_t n) const {
  std::vector<std::pair<std::string, std::uint64_t>> v(reasons_.begin(), reasons_.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (v.size() > n) v.resize(n);
  return v;
}

std::vector<HostCount> Summary::top_hosts(std::size_t n, std::uint64_t min_domains) const {
  std::vector<const HostCount*> v;
  for (const auto& [_, h] : hosts_) {
    if (h.domains >= min_domains) v.push_back(&h);
  }
  auto better = [](const HostCount* a, const HostCount* b) {
    return a->domains != b->domains ? a->domains > b->domains : a->host < b->host;
  };
  std::size_t keep = std::min(n, v.size());
  std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(keep), v.end(), better);
  std::vector<HostCount> out;
  for (std::size_t i = 0; i < keep; ++i) out.push_back(*v[i]);
  return out;
}

std::string Summary::to_json(const ScanContext& c) const {
  json reasons = json::array();
  for (const auto& [code, n] : top_reasons(20)) reasons.push_back({{"code", code}, {"domains", n}});
  json hosts = json::array();
  for (const auto& h : top_hosts(50)) {
    json dane = json::object();
    for (const auto& [state, n] : h.dane) dane[state] = n;
    hosts.push_back({{"host", h.host}, {"domains", h.domains}, {"dane", dane}});
  }
  double rate = c.elapsed_ms > 0 ? static_cast<double>(c.checked) * 1000.0 / static_cast<double>(c.elapsed_ms) : 0;
  json out = report::envelope("danekit.scan-summary/1");
  json fields{{"input", c.input},
              {"shard", c.shard.empty() ? json(nullptr) : json(c.shard)},
              {"complete", c.complete},
              {"domains", domains_},
              {"checked", c.checked},
              {"earlier", c.earlier},
              {"bad_lines", c.bad_lines},
              {"elapsed_ms", c.elapsed_ms},
              {"domains_per_second", std::round(rate * 10) / 10},
              {"verdicts", ordered_counts(verdicts_, verdict_order())},
              {"delivery", ordered_counts(deliveries_, delivery_order())},
              {"undetermined", undetermined_},
              {"reasons", reasons},
              {"mx_hosts", hosts},
              {"mx_hosts_untracked", untracked_},
              {"limits",
               {{"domains_in_flight", c.domains_in_flight},
                {"per_ip", c.per_ip},
                {"threads", c.threads},
                {"connections", c.connections}}},
              {"engine",
               {{"dns_lookups", c.engine.dns_lookups},
                {"dns_shared", c.engine.dns_shared},
                {"smtp_sessions", c.engine.handshakes},
                {"smtp_sessions_shared", c.engine.handshakes_shared},
                {"local_retries", c.engine.local_retries},
                {"second_looks", c.engine.second_looks}}}};
  out.update(fields);
  return report::dump(out);
}

std::string Summary::to_text(const ScanContext& c) const {
  double secs = static_cast<double>(c.elapsed_ms) / 1000.0;
  double rate = secs > 0 ? static_cast<double>(c.checked) / secs : 0;
  std::string out = fmt::format("danekit scan: {} {}{}", domains_, domains_ == 1 ? "domain" : "domains",
                                c.complete ? "" : " (incomplete)");
  if (c.earlier > 0) out += fmt::format(", {} from an earlier run", c.earlier);
  if (c.bad_lines > 0) out += fmt::format(", {} bad input {}", c.bad_lines, c.bad_lines == 1 ? "line" : "lines");
  if (!c.shard.empty()) out += fmt::format(", shard {}", c.shard);
  out += fmt::format("; {} checked in {:.1f} s ({:.1f}/s)\n", c.checked, secs, rate);
  out += fmt::format("  verdicts: {}", counts_text(verdicts_, verdict_order()));
  if (undetermined_ > 0) out += fmt::format("; undetermined {}", undetermined_);
  out += fmt::format("\n  delivery: {}\n", counts_text(deliveries_, delivery_order()));
  auto reasons = top_reasons(5);
  if (!reasons.empty()) {
    std::string list;
    for (const auto& [code, n] : reasons) list += fmt::format("{}{} {}", list.empty() ? "" : ", ", code, n);
    out += fmt::format("  top reasons: {}\n", list);
  }
  auto hosts = top_hosts(5);
  if (!hosts.empty()) {
    std::string list;
    for (const auto& h : hosts) list += fmt::format("{}{} ({})", list.empty() ? "" : ", ", h.host, h.domains);
    out += fmt::format("  shared MX hosts: {}\n", list);
  }
  out += fmt::format("  limits: {} domains in flight, {} connections per address, {} threads\n", c.domains_in_flight,
                     c.per_ip, c.threads);
  if (c.engine.dns_lookups + c.engine.handshakes > 0)
    out += fmt::format(
        "  engine: {} DNS lookups ({} more answered from the shared cache), {} SMTP sessions ({} more "
        "probes answered by them)\n",
        c.engine.dns_lookups, c.engine.dns_shared, c.engine.handshakes, c.engine.handshakes_shared);
  return out;
}

}  // namespace danekit::scan
