// MTA-STS and TLS-RPT inside check, through the real orchestrator with fake
// DNS, policy server and Web PKI: the mode a sender applies, MX coverage,
// per-address pkix, TLS-RPT status and what each kind of sender does.
#include <gtest/gtest.h>

#include "danekit/sts_policy.h"
#include "scenario.h"

namespace danekit {
namespace {

using namespace scenario;

std::vector<std::uint8_t> txt_rd(const std::string& text) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < text.size() || i == 0; i += 255) {
    std::string part = text.substr(i, 255);
    out.push_back(static_cast<std::uint8_t>(part.size()));
    out.insert(out.end(), part.begin(), part.end());
    if (text.empty()) break;
  }
  return out;
}

bool has_reason(const CheckReport& r, const std::string& code) {
  for (const auto& x : r.reasons)
    if (x.code == code) return true;
  return false;
}

const Reason* reason(const CheckReport& r, const std::string& code) {
  for (const auto& x : r.reasons)
    if (x.code == code) return &x;
  return nullptr;
}

HttpsFetchResult served(std::string body, std::string type = "text/plain") {
  HttpsFetchResult r;
  r.outcome = FetchOutcome::ok;
  r.address = "192.0.2.80";
  r.status = 200;
  r.content_type = std::move(type);
  r.body = std::move(body);
  return r;
}

// d.example: MX 10 mx1.d.example, MX 20 mx2.d.example; a policy host at 192.0.2.80.
struct StsWorld : World {
  StsWorld(bool dane = true) {
    mta_sts = true;
    mx("d.example", {{10, "mx1.d.example"}, {20, "mx2.d.example"}});
    if (dane) {
      dane_host("mx1.d.example", "192.0.2.1");
      dane_host("mx2.d.example", "192.0.2.2");
    } else {
      plain_host("mx1.d.example", "192.0.2.1");
      plain_host("mx2.d.example", "192.0.2.2");
    }
    add(ans("mta-sts.d.example", rrtype::A, S::secure, K::data, {a_rd("192.0.2.80")}));
    add(ans("mta-sts.d.example", rrtype::AAAA, S::secure, K::nodata));
  }
  void record(std::vector<std::string> txt, S sec = S::secure) {
    std::vector<std::vector<std::uint8_t>> rd;
    for (const auto& t : txt) rd.push_back(txt_rd(t));
    add(ans("_mta-sts.d.example", rrtype::TXT, sec, rd.empty() ? K::nxdomain : K::data, rd));
  }
  void tlsrpt(const std::string& txt) {
    add(ans("_smtp._tls.d.example", rrtype::TXT, S::secure, K::data, {txt_rd(txt)}));
  }
  void policy(const std::string& mode, const std::string& mx = "mx1.d.example\r\nmx: mx2.d.example") {
    std::string body = "version: STSv1\r\nmode: " + mode + "\r\nmx: " + mx + "\r\nmax_age: 604800\r\n";
    policy_server = [body](const HttpsFetchRequest&) { return served(body); };
  }
};

TEST(StsCheck, EnforceCoveredValidEverywhere) {
  StsWorld w;
  w.record({"v=STSv1; id=20260101"});
  w.tlsrpt("v=TLSRPTv1; rua=mailto:tls@d.example");
  w.policy("enforce");
  auto r = w.run("d.example");
  ASSERT_EQ(w.fetched.size(), 1u);
  EXPECT_EQ(w.fetched[0].host, "mta-sts.d.example");
  EXPECT_EQ(w.fetched[0].addresses, std::vector<std::string>{"192.0.2.80"});
  EXPECT_EQ(r.mta_sts.mode, sts::Mode::enforce);
  EXPECT_EQ(r.mta_sts.id, "20260101");
  EXPECT_EQ(r.mta_sts.max_age, 604800u);
  EXPECT_EQ(r.tls_rpt.status, sts::RecordStatus::valid);
  EXPECT_EQ(r.tls_rpt.rua, std::vector<std::string>{"mailto:tls@d.example"});
  ASSERT_EQ(r.mx.size(), 2u);
  EXPECT_EQ(r.mx[0].mta_sts_covered, true);
  EXPECT_EQ(r.mx[0].addresses.at(0).pkix, Pkix::valid);
  EXPECT_EQ(r.by_sender.dane, Delivery::authenticated);
  EXPECT_EQ(r.by_sender.mta_sts, Delivery::authenticated);
  EXPECT_EQ(r.by_sender.both, Delivery::authenticated);
  EXPECT_FALSE(has_reason(r, "sts-dane-disagree"));
  // The Web PKI judgment rode on the DANE session (same SNI): no extra session.
  EXPECT_EQ(w.probed.size(), 2u);
}

TEST(StsCheck, NotCoveredHostIsSkippedUnderEnforce) {
  StsWorld w(false);
  w.record({"v=STSv1; id=1"});
  w.policy("enforce", "mx2.d.example");
  auto r = w.run("d.example");
  EXPECT_EQ(r.mx[0].mta_sts_covered, false);
  EXPECT_EQ(r.mx[1].mta_sts_covered, true);
  const Reason* x = reason(r, "sts-mx-not-covered");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->severity, Severity::error);
  EXPECT_EQ(x->host, "mx1.d.example");
  EXPECT_EQ(r.by_sender.dane, Delivery::opportunistic);
  EXPECT_EQ(r.by_sender.mta_sts, Delivery::authenticated);  // mx2, covered and valid
  EXPECT_EQ(r.by_sender.both, Delivery::authenticated);
}

TEST(StsCheck, NoCoveredHostDefersUnderEnforceNotUnderTesting) {
  for (std::string mode : {"enforce", "testing"}) {
    StsWorld w(false);
    w.record({"v=STSv1; id=1"});
    w.policy(mode, "other.example");
    auto r = w.run("d.example");
    EXPECT_EQ(r.by_sender.mta_sts, mode == "enforce" ? Delivery::deferred : Delivery::opportunistic) << mode;
    EXPECT_EQ(reason(r, "sts-mx-not-covered")->severity, mode == "enforce" ? Severity::error : Severity::warning);
  }
}

TEST(StsCheck, DaneValidWebPkiInvalidUnderEnforceDisagrees) {
  StsWorld w;
  w.record({"v=STSv1; id=1"});
  w.policy("enforce");
  w.webpki = [](const ProbeRequest&) { return Pkix::invalid; };
  auto r = w.run("d.example");
  EXPECT_EQ(r.mx[0].addresses.at(0).pkix, Pkix::invalid);
  EXPECT_EQ(r.by_sender.dane, Delivery::authenticated);
  EXPECT_EQ(r.by_sender.mta_sts, Delivery::deferred);
  EXPECT_EQ(r.by_sender.both, Delivery::authenticated);  // DANE first (RFC 8461 §2)
  EXPECT_TRUE(has_reason(r, "sts-webpki-invalid"));
  const Reason* x = reason(r, "sts-dane-disagree");
  ASSERT_NE(x, nullptr);
  EXPECT_NE(x->text.find("postfix-mta-sts-resolver"), std::string::npos);
}

TEST(StsCheck, MtaStsNeverOverridesAFailingDaneCheck) {
  StsWorld w;
  w.record({"v=STSv1; id=1"});
  w.policy("enforce");
  w.server = [](const ProbeRequest& r) { return r.mode == ProbeMode::dane ? Outcome::mismatch : Outcome::encrypted; };
  auto r = w.run("d.example");
  EXPECT_EQ(r.by_sender.dane, Delivery::deferred);
  EXPECT_EQ(r.by_sender.mta_sts, Delivery::authenticated);
  EXPECT_EQ(r.by_sender.both, Delivery::deferred);
  EXPECT_TRUE(has_reason(r, "sts-dane-disagree"));
}

TEST(StsCheck, RedirectIsNotFollowedAndGivesNoPolicy) {
  StsWorld w(false);
  w.record({"v=STSv1; id=1"});
  w.policy_server = [](const HttpsFetchRequest&) {
    HttpsFetchResult r;
    r.outcome = FetchOutcome::redirect;
    r.status = 301;
    r.location = "https://elsewhere.example/policy";
    return r;
  };
  auto r = w.run("d.example");
  EXPECT_FALSE(r.mta_sts.mode.has_value());
  EXPECT_EQ(r.mta_sts.fetch, "redirect");
  EXPECT_TRUE(has_reason(r, "sts-redirect"));
  EXPECT_FALSE(r.mx[0].mta_sts_covered.has_value());
  EXPECT_EQ(r.by_sender.mta_sts, Delivery::opportunistic);
}

TEST(StsCheck, TwoRecordsMeanNoPolicyAndNoFetch) {
  StsWorld w(false);
  w.record({"v=STSv1; id=1", "v=STSv1; id=2"});
  w.policy("enforce");
  auto r = w.run("d.example");
  EXPECT_TRUE(w.fetched.empty());
  EXPECT_EQ(r.mta_sts.record_status, sts::RecordStatus::invalid);
  EXPECT_TRUE(has_reason(r, "sts-multiple-records"));
  EXPECT_FALSE(r.mta_sts.mode.has_value());
}

TEST(StsCheck, PolicyHostWithoutAddressAndFailedFetches) {
  StsWorld w(false);
  w.record({"v=STSv1; id=1"});
  w.dns.erase({"mta-sts.d.example", rrtype::A});
  w.dns.erase({"mta-sts.d.example", rrtype::AAAA});
  auto r = w.run("d.example");
  EXPECT_TRUE(w.fetched.empty());
  EXPECT_EQ(r.mta_sts.fetch, "no-address");
  EXPECT_TRUE(has_reason(r, "sts-fetch-failed"));

  StsWorld v(false);
  v.record({"v=STSv1; id=1"});
  v.policy_server = [](const HttpsFetchRequest&) {
    HttpsFetchResult x;
    x.outcome = FetchOutcome::pkix_invalid;
    x.detail = "the certificate does not name mta-sts.d.example";
    return x;
  };
  auto q = v.run("d.example");
  EXPECT_TRUE(has_reason(q, "sts-policy-host-invalid"));
  EXPECT_FALSE(q.mta_sts.mode.has_value());
}

TEST(StsCheck, ContentTypeIsAWarningOnly) {
  StsWorld w(false);
  w.record({"v=STSv1; id=1"});
  std::string body = "version: STSv1\nmode: testing\nmx: *.d.example\nmax_age: 86400\n";
  w.policy_server = [body](const HttpsFetchRequest&) { return served(body, "text/html; charset=utf-8"); };
  auto r = w.run("d.example");
  EXPECT_TRUE(has_reason(r, "sts-content-type"));
  EXPECT_EQ(r.mta_sts.mode, sts::Mode::testing);
  EXPECT_EQ(r.mx[0].mta_sts_pattern, "*.d.example");
  // text/plain with parameters is fine
  StsWorld v(false);
  v.record({"v=STSv1; id=1"});
  v.policy_server = [body](const HttpsFetchRequest&) { return served(body, "Text/Plain; charset=utf-8"); };
  EXPECT_FALSE(has_reason(v.run("d.example"), "sts-content-type"));
}

TEST(StsCheck, LookupFailuresAreNamed) {
  StsWorld w(false);
  w.add(ans("_mta-sts.d.example", rrtype::TXT, S::bogus, K::failure));
  w.add(ans("_smtp._tls.d.example", rrtype::TXT, S::indeterminate, K::failure));
  auto r = w.run("d.example");
  int n = 0;
  for (const auto& x : r.reasons) n += x.code == "sts-lookup-failed";
  EXPECT_EQ(n, 2);
  EXPECT_FALSE(r.mta_sts.mode.has_value());
  EXPECT_EQ(r.by_sender.mta_sts, Delivery::opportunistic);
}

TEST(StsCheck, TlsRptStatuses) {
  StsWorld w(false);
  w.tlsrpt("v=TLSRPTv1; rua=ftp://d.example/");
  auto r = w.run("d.example");
  EXPECT_EQ(r.tls_rpt.status, sts::RecordStatus::invalid);
  EXPECT_TRUE(has_reason(r, "tlsrpt-invalid") || has_reason(r, "tlsrpt-rua-unsupported"));
  StsWorld v(false);
  auto q = v.run("d.example");
  EXPECT_EQ(q.tls_rpt.status, sts::RecordStatus::absent);
  EXPECT_TRUE(has_reason(q, "tlsrpt-missing"));
  EXPECT_TRUE(has_reason(q, "sts-missing"));
}

TEST(StsCheck, OffMeansNoLookupsAtAll) {
  StsWorld w;
  w.mta_sts = false;
  w.record({"v=STSv1; id=1"});
  auto r = w.run("d.example");
  for (const auto& q : w.queried) EXPECT_EQ(q.find("TXT"), std::string::npos) << q;
  EXPECT_FALSE(r.mta_sts.checked);
  for (const auto& p : w.probed) EXPECT_TRUE(p.pkix_name.empty());
}

TEST(StsCheck, AliasMxGetsASessionWithTheMxHostNameAsSni) {
  World w;
  w.mta_sts = true;
  w.mx("d.example", {{10, "mx.d.example"}});
  // mx.d.example is a secure alias of host.provider.example, which has TLSA:
  // the DANE session's SNI is the target, an MTA-STS sender's the MX host.
  w.add(ans("mx.d.example", rrtype::A, S::secure, K::data, {a_rd("192.0.2.9")}, {"host.provider.example"}));
  w.add(ans("mx.d.example", rrtype::AAAA, S::secure, K::nodata, {}, {"host.provider.example"}));
  w.add(ans("_25._tcp.host.provider.example", rrtype::TLSA, S::secure, K::data, {tlsa_rd(3, 1, 1)}));
  w.add(ans("_mta-sts.d.example", rrtype::TXT, S::secure, K::data, {txt_rd("v=STSv1; id=7")}));
  w.add(ans("mta-sts.d.example", rrtype::A, S::secure, K::data, {a_rd("192.0.2.80")}));
  w.policy_server = [](const HttpsFetchRequest&) {
    return served("version: STSv1\nmode: enforce\nmx: mx.d.example\nmax_age: 86400\n");
  };
  auto r = w.run("d.example");
  ASSERT_EQ(r.mx.size(), 1u);
  ASSERT_EQ(r.mx[0].tlsa_base, "host.provider.example");
  bool sts_session = false;
  for (const auto& p : w.probed)
    if (p.tlsa_base == "mx.d.example" && p.pkix_name == "mx.d.example" && p.mode == ProbeMode::opportunistic)
      sts_session = true;
  EXPECT_TRUE(sts_session);
  EXPECT_EQ(r.mx[0].addresses.at(0).pkix, Pkix::valid);
  EXPECT_EQ(r.by_sender.mta_sts, Delivery::authenticated);
}

TEST(StsCheck, TxtRecordsJoinCharacterStrings) {
  Answer a = ans("x", rrtype::TXT, S::secure, K::data, {txt_rd(std::string(300, 'a')), {5, 'a', 'b'}});
  auto t = txt_records(a);
  ASSERT_EQ(t.size(), 1u);  // the second rdata is malformed (length 5, 2 bytes): skipped
  EXPECT_EQ(t[0], std::string(300, 'a'));
}

}  // namespace
}  // namespace danekit
