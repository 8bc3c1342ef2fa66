// The rollover planner as a pure function: published records with first-seen
// times, what the server serves, current and next keys, and "now".
#include <gtest/gtest.h>

#include <ctime>

#include "danekit/rollover.h"
#include "test_pki.h"

namespace danekit {
namespace {

using testing::Issued;

// The test certificates are issued around the real time, so "now" is the real
// time here; the planner itself never reads a clock.
const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));

struct Keys {
  Issued root = testing::issue("Root", nullptr, true);
  Issued inter = testing::issue("Int", &root, true);
  Issued a = testing::issue("mx.roll.example", &inter, false, {"mx.roll.example"});
  Issued b = testing::issue("mx.roll.example", &inter, false, {"mx.roll.example"});
  Issued wrong_name = testing::issue("other", &inter, false, {"other.example"});
  Issued domain_name = testing::issue("roll.example", &inter, false, {"roll.example"});
  Issued expired = testing::issue("mx.roll.example", &inter, false, {"mx.roll.example"}, -86400 * 90, -86400);

  KeySource local(const Issued& leaf, const std::string& name) const {
    KeySource k;
    k.name = name;
    k.chain = {testing::info_of(leaf.cert), testing::info_of(inter.cert)};
    k.spki = k.chain[0].spki_der;
    return k;
  }
  KeySource bare(const Issued& leaf, const std::string& name) const {
    auto k = local(leaf, name);
    k.chain.clear();
    return k;
  }
};

RolloverFacts facts(const Keys& k, std::vector<PublishedRecord> published, const Issued& served) {
  RolloverFacts f;
  f.host = "mx.roll.example";
  f.owner = "_25._tcp.mx.roll.example";
  f.tlsa_security = Security::secure;
  f.tlsa_kind = AnswerKind::data;
  f.tlsa_ttl = 3600;
  f.negative_ttl = 300;
  f.margin = 60;
  f.now = now;
  f.published = std::move(published);
  ProbeResult p;
  p.address = "192.0.2.25";
  p.chain = {testing::info_of(served.cert), testing::info_of(k.inter.cert)};
  p.outcome = Outcome::verified;
  f.served = {p};
  f.current = k.local(k.a, "a.pem");
  return f;
}

TEST(Rollover, StatusFindsLiveStaleAndMissingNext) {
  Keys k;
  auto a = ee_record_for(k.local(k.a, "a"));
  TlsaRecord stale{3, 1, 1, std::vector<std::uint8_t>(32, 7)};
  auto f = facts(k, {{a, now - 86400}, {stale, now - 86400}}, k.a);
  f.next = k.bare(k.b, "b.key");
  auto s = rollover_status(f);
  ASSERT_EQ(s.records.size(), 2u);
  EXPECT_EQ(s.records[0].state, "live");
  EXPECT_TRUE(s.records[0].current);
  EXPECT_EQ(s.records[1].state, "stale");
  EXPECT_FALSE(s.next_covered);
  ASSERT_TRUE(s.missing_for_next);
  EXPECT_EQ(*s.missing_for_next, ee_record_for(k.bare(k.b, "b")));
  EXPECT_TRUE(s.ok);
}

TEST(Rollover, PlanFromScratchPublishesWaitsDeploysWithdraws) {
  Keys k;
  auto a = ee_record_for(k.local(k.a, "a"));
  auto f = facts(k, {{a, now - 86400}}, k.a);
  f.next = k.bare(k.b, "b.key");
  auto plan = plan_rollover(f);
  ASSERT_EQ(plan.steps.size(), 5u);
  EXPECT_EQ(plan.wait_seconds, 3600 + 300 + 60);
  EXPECT_FALSE(plan.steps[0].done);
  ASSERT_EQ(plan.steps[0].add.size(), 1u);
  EXPECT_EQ(plan.steps[0].add[0], ee_record_for(k.bare(k.b, "b")));
  EXPECT_EQ(plan.steps[1].earliest, now + 3960);
  EXPECT_EQ(plan.steps[2].earliest, now + 3960);
  EXPECT_FALSE(plan.steps[2].done);
  ASSERT_EQ(plan.steps[4].remove.size(), 1u);
  EXPECT_EQ(plan.steps[4].remove[0], a);
  EXPECT_EQ(plan.steady_state, "3 1 1 current + 3 1 1 next");
}

TEST(Rollover, PlanCountsTheWaitFromWhenTheNextRecordWasFirstSeen) {
  Keys k;
  auto a = ee_record_for(k.local(k.a, "a"));
  auto b = ee_record_for(k.local(k.b, "b"));
  auto f = facts(k, {{a, now - 86400}, {b, now - 1000}}, k.a);
  f.next = k.local(k.b, "b.pem");
  auto plan = plan_rollover(f);
  EXPECT_TRUE(plan.steps[0].done);
  EXPECT_EQ(plan.steps[2].earliest, now - 1000 + 3960);
  EXPECT_FALSE(plan.steps[1].done);
}

TEST(Rollover, AgilityMakesTheNextRecordSha512) {
  Keys k;
  auto key_a = k.local(k.a, "a");
  TlsaRecord a512{3, 1, 2, tlsa_digest(2, key_a.spki)};
  auto f = facts(k, {{a512, now - 86400}}, k.a);
  f.next = k.bare(k.b, "b.key");
  auto plan = plan_rollover(f);
  ASSERT_EQ(plan.steps[0].add.size(), 1u);
  EXPECT_EQ(plan.steps[0].add[0].mtype, 2);
}

TEST(Rollover, PrecheckRefusesAnUnpublishedKey) {
  Keys k;
  auto f = facts(k, {{ee_record_for(k.local(k.a, "a")), now - 86400}}, k.a);
  auto r = precheck_certificate(f, k.local(k.b, "b.pem"));
  EXPECT_FALSE(r.safe);
  EXPECT_NE(r.reason.find("no published TLSA record"), std::string::npos) << r.reason;
  EXPECT_FALSE(r.safe_from);
}

TEST(Rollover, PrecheckWaitsForCachesThenAccepts) {
  Keys k;
  auto a = ee_record_for(k.local(k.a, "a"));
  auto b = ee_record_for(k.local(k.b, "b"));
  auto f = facts(k, {{a, now - 86400}, {b, now - 100}}, k.a);
  auto r = precheck_certificate(f, k.local(k.b, "b.pem"));
  EXPECT_FALSE(r.safe);
  ASSERT_TRUE(r.safe_from);
  EXPECT_EQ(*r.safe_from, now - 100 + 3960);
  f.now = *r.safe_from;
  r = precheck_certificate(f, k.local(k.b, "b.pem"));
  EXPECT_TRUE(r.safe) << r.reason;
}

TEST(Rollover, PrecheckAcceptsTheCertificateAlreadyInService) {
  Keys k;
  auto f = facts(k, {{ee_record_for(k.local(k.a, "a")), now}}, k.a);  // first seen just now
  EXPECT_TRUE(precheck_certificate(f, k.local(k.a, "a.pem")).safe);
  f.served[0].outcome = Outcome::mismatch;
  EXPECT_FALSE(precheck_certificate(f, k.local(k.a, "a.pem")).safe);
}

TEST(Rollover, PrecheckWithAnIssuerRecordChecksTheName) {
  Keys k;
  TlsaRecord ta{2, 1, 1, tlsa_association(testing::info_of(k.inter.cert), 1, 1)};
  auto f = facts(k, {{ta, now - 86400}}, k.a);
  EXPECT_TRUE(precheck_certificate(f, k.local(k.b, "b.pem")).safe);
  auto r = precheck_certificate(f, k.local(k.wrong_name, "other.pem"));
  EXPECT_FALSE(r.safe);
  // a bare key cannot be judged against an issuer record
  EXPECT_FALSE(precheck_certificate(f, k.bare(k.b, "b.key")).safe);
  f.next = k.local(k.b, "b.pem");
  EXPECT_EQ(plan_rollover(f).steady_state, "3 1 1 + 2 1 1 issuer");
}

TEST(Rollover, PrecheckRefusesWhenTheRrsetIsNotSecure) {
  Keys k;
  auto f = facts(k, {{ee_record_for(k.local(k.a, "a")), now - 86400}}, k.a);
  f.tlsa_security = Security::bogus;
  auto r = precheck_certificate(f, k.local(k.a, "a.pem"));
  EXPECT_FALSE(r.safe);
  EXPECT_NE(r.reason.find("bogus"), std::string::npos);
}

// Where the planner's answer is now OpenSSL's (authenticate) and a digest
// comparison of its own would have answered otherwise.

TEST(RolloverOpenssl, TrustAnchorOutsideTheChainAuthenticatesThroughItsSignature) {
  Keys k;
  // 2 1 0 with the root's whole key: the chains send leaf + intermediate only;
  // OpenSSL verifies the intermediate's signature with the record's key.
  TlsaRecord root{2, 1, 0, testing::info_of(k.root.cert).spki_der};
  auto f = facts(k, {{root, now - 86400}}, k.a);
  auto r = precheck_certificate(f, k.local(k.b, "b.pem"));
  EXPECT_TRUE(r.safe) << r.reason;
  ASSERT_EQ(r.matching.size(), 1u);
  EXPECT_EQ(r.matching[0], root);
  f.next = k.local(k.b, "b.pem");
  auto s = rollover_status(f);
  EXPECT_TRUE(s.next_covered);
  EXPECT_EQ(s.records[0].state, "live");
  EXPECT_TRUE(s.records[0].current);
  EXPECT_TRUE(s.records[0].next);
}

TEST(RolloverOpenssl, FullValueDataOpensslCannotLoadIsUnusable) {
  Keys k;
  auto a = ee_record_for(k.local(k.a, "a"));
  TlsaRecord garbage{3, 1, 0, {0x00, 0x11, 0x22, 0x33}};
  auto f = facts(k, {{a, now - 86400}, {garbage, now - 86400}}, k.a);
  auto s = rollover_status(f);
  ASSERT_EQ(s.records.size(), 2u);
  EXPECT_EQ(s.records[1].state, "unusable");  // a digest comparison alone: "stale"
  EXPECT_NE(s.records[1].unusable_reason.find("SubjectPublicKeyInfo"), std::string::npos)
      << s.records[1].unusable_reason;
  // Never handed to the probe, and never a withdrawal candidate.
  f.next = k.bare(k.b, "b.key");
  auto plan = plan_rollover(f);
  for (const auto& r : plan.steps[4].remove) EXPECT_NE(r, garbage);
}

TEST(RolloverOpenssl, AnIssuerRecordWhoseServedChainFailsTheNameCheckIsNotLive) {
  Keys k;
  TlsaRecord ta{2, 1, 1, tlsa_association(testing::info_of(k.inter.cert), 1, 1)};
  auto f = facts(k, {{ta, now - 86400}}, k.wrong_name);  // the server sends a chain for other.example
  f.served[0].outcome = Outcome::name_mismatch;
  f.current.reset();
  auto s = rollover_status(f);
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_FALSE(s.records[0].live);  // a digest comparison alone: live
  EXPECT_EQ(s.records[0].state, "rejected");
  bool said = false;
  for (const auto& x : s.findings) said = said || x.find("hostname mismatch") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(RolloverOpenssl, TheNextHopDomainIsAReferenceIdentifier) {
  Keys k;
  TlsaRecord ta{2, 1, 1, tlsa_association(testing::info_of(k.inter.cert), 1, 1)};
  auto f = facts(k, {{ta, now - 86400}}, k.a);
  auto cert = k.local(k.domain_name, "domain.pem");  // names roll.example, not mx.roll.example
  auto r = precheck_certificate(f, cert);
  EXPECT_FALSE(r.safe);
  EXPECT_NE(r.reason.find("name-mismatch"), std::string::npos) << r.reason;
  f.extra_names = {"roll.example"};  // rollover --domain roll.example
  r = precheck_certificate(f, cert);
  EXPECT_TRUE(r.safe) << r.reason;
}

TEST(RolloverOpenssl, AnIssuerRecordChecksDatesAtNowAndDaneEeDoesNot) {
  Keys k;
  TlsaRecord ta{2, 1, 1, tlsa_association(testing::info_of(k.inter.cert), 1, 1)};
  auto old = k.local(k.expired, "expired.pem");
  auto f = facts(k, {{ta, now - 86400}}, k.a);
  auto r = precheck_certificate(f, old);
  EXPECT_FALSE(r.safe);
  EXPECT_NE(r.reason.find("expired"), std::string::npos) << r.reason;
  f.now = now - 86400 * 30;  // the planner's "now" is OpenSSL's verification time
  f.published[0].first_seen = f.now - 86400;
  EXPECT_TRUE(precheck_certificate(f, old).safe);
  f.now = now;
  f.published = {{ee_record_for(old), now - 86400}};
  EXPECT_TRUE(precheck_certificate(f, old).safe);
}

}  // namespace
}  // namespace danekit
