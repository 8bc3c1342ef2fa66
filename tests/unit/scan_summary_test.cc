// The scan summary: counts by verdict and delivery, top reason codes, the MX
// hosts ranked by the domains that depend on them, and the same aggregate from
// fresh reports as from the JSON lines written before (a resumed scan).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "danekit/version.h"
#include "scan/summary.h"

namespace danekit::scan {
namespace {

CheckReport report(const std::string& domain, Verdict v, Delivery d, std::vector<std::string> hosts,
                   std::vector<std::string> codes, HostDane dane = HostDane::authenticated) {
  CheckReport r;
  r.domain = domain;
  r.verdict = v;
  r.delivery = d;
  for (const auto& h : hosts) {
    MxReport m;
    m.host = h;
    m.dane = dane;
    r.mx.push_back(m);
  }
  for (const auto& c : codes) {
    Reason reason;
    reason.code = c;
    r.reasons.push_back(reason);
    r.reasons.push_back(reason);  // the same code twice counts once per domain
  }
  return r;
}

std::vector<CheckReport> sample() {
  return {
      report("a.example", Verdict::valid, Delivery::authenticated, {"mx.provider.example"}, {}),
      report("b.example", Verdict::valid, Delivery::authenticated, {"mx.provider.example", "mx2.provider.example"}, {}),
      report("c.example", Verdict::invalid, Delivery::deferred, {"mx.provider.example"}, {"dane-mismatch"},
             HostDane::failed),
      report("d.example", Verdict::none, Delivery::opportunistic, {"mx.other.example"}, {"no-tlsa", "mx-insecure"},
             HostDane::none),
      report("e.example", Verdict::none, Delivery::opportunistic, {"mx.other.example", "mx.other.example"}, {"no-tlsa"},
             HostDane::none),
      report("f.example", Verdict::no_mail, Delivery::undeliverable, {}, {"null-mx"}),
  };
}

TEST(ScanSummary, CountsVerdictsDeliveriesReasonsAndHosts) {
  Summary s;
  for (const auto& r : sample()) s.add(domain_result(r));
  EXPECT_EQ(s.domains(), 6u);
  EXPECT_EQ(s.verdicts().at("valid"), 2u);
  EXPECT_EQ(s.verdicts().at("none"), 2u);
  EXPECT_EQ(s.verdicts().at("partial"), 0u);  // every verdict is listed
  EXPECT_EQ(s.verdicts().size(), 7u);
  EXPECT_EQ(s.deliveries().at("opportunistic"), 2u);
  EXPECT_EQ(s.deliveries().at("encrypted"), 0u);
  auto reasons = s.top_reasons(2);
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_EQ(reasons[0], (std::pair<std::string, std::uint64_t>{"no-tlsa", 2}));
  EXPECT_EQ(reasons[1].first, "dane-mismatch");  // ties go by name
  auto hosts = s.top_hosts(10);
  ASSERT_EQ(hosts.size(), 2u);  // only hosts shared by two or more domains
  EXPECT_EQ(hosts[0].host, "mx.provider.example");
  EXPECT_EQ(hosts[0].domains, 3u);
  EXPECT_EQ(hosts[0].dane.at("authenticated"), 2u);
  EXPECT_EQ(hosts[0].dane.at("failed"), 1u);
  EXPECT_EQ(hosts[1].host, "mx.other.example");
  EXPECT_EQ(hosts[1].domains, 2u);  // e.example lists it twice: one domain
  EXPECT_EQ(s.top_hosts(10, 1).size(), 3u);
}

TEST(ScanSummary, ImplicitMxIsNotAProvider) {
  auto r = report("g.example", Verdict::none, Delivery::opportunistic, {"g.example"}, {});
  r.mx[0].implicit = true;
  Summary s;
  s.add(domain_result(r));
  EXPECT_TRUE(s.top_hosts(10, 1).empty());
}

TEST(ScanSummary, TheSameFromJsonLines) {
  Summary fresh, again;
  for (const auto& r : sample()) {
    fresh.add(domain_result(r));
    auto back = domain_result_from_json(to_json(r));
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(back->verdict, domain_result(r).verdict);
    EXPECT_EQ(back->reason_codes, domain_result(r).reason_codes);
    EXPECT_EQ(back->mx_dane, domain_result(r).mx_dane);
    again.add(*back);
  }
  ScanContext ctx;
  EXPECT_EQ(fresh.to_json(ctx), again.to_json(ctx));
  EXPECT_FALSE(domain_result_from_json("not json").has_value());
  EXPECT_FALSE(domain_result_from_json(R"({"schema":"other/1"})").has_value());
  EXPECT_FALSE(domain_result_from_json(R"({"schema":"danekit.check/1"})").has_value());
  EXPECT_FALSE(domain_result_from_json("[1,2]").has_value());
}

TEST(ScanSummary, JsonAndText) {
  Summary s;
  for (const auto& r : sample()) s.add(domain_result(r));
  ScanContext ctx;
  ctx.input = "list.txt";
  ctx.bad_lines = 1;
  ctx.checked = 6;
  ctx.elapsed_ms = 2000;
  ctx.domains_in_flight = 64;
  ctx.per_ip = 8;
  ctx.threads = 2;
  auto j = nlohmann::json::parse(s.to_json(ctx));
  EXPECT_EQ(j["schema"], "danekit.scan-summary/1");
  EXPECT_EQ(j["danekit"], std::string(kVersion));
  // The envelope comes first.
  EXPECT_EQ(s.to_json(ctx).rfind(R"({"schema":"danekit.scan-summary/1","danekit":")", 0), 0u);
  EXPECT_EQ(j["domains"], 6);
  EXPECT_EQ(j["bad_lines"], 1);
  EXPECT_EQ(j["verdicts"]["valid"], 2);
  EXPECT_EQ(j["delivery"]["undeliverable"], 1);
  EXPECT_EQ(j["reasons"][0]["code"], "no-tlsa");
  EXPECT_EQ(j["mx_hosts"][0]["host"], "mx.provider.example");
  EXPECT_EQ(j["mx_hosts"][0]["domains"], 3);
  EXPECT_EQ(j["limits"]["domains_in_flight"], 64);
  EXPECT_EQ(j["domains_per_second"], 3.0);
  EXPECT_TRUE(j["shard"].is_null());
  auto text = s.to_text(ctx);
  EXPECT_NE(text.find("danekit scan: 6 domains, 1 bad input line"), std::string::npos) << text;
  EXPECT_NE(text.find("verdicts: valid 2, invalid 1, none 2, no-mail 1"), std::string::npos) << text;
  EXPECT_NE(text.find("shared MX hosts: mx.provider.example (3), mx.other.example (2)"), std::string::npos) << text;
  EXPECT_NE(text.find("limits: 64 domains in flight, 8 connections per address, 2 threads"), std::string::npos);
}

}  // namespace
}  // namespace danekit::scan
