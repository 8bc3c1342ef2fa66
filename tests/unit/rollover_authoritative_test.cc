// The rollover planner and every authoritative server: the new TLSA RRset must
// be on each of them (RolloverFacts::authoritative, filled by the DNSSEC
// audit's collector), not only in the one answer the resolver validated.
#include <gtest/gtest.h>

#include <ctime>

#include "danekit/rollover.h"
#include "test_pki.h"

namespace danekit {
namespace {

using testing::Issued;

// The test certificates are issued around the real time (test_pki.h); the
// planner reads no clock.
const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));

struct Keys {
  Issued root = testing::issue("Root", nullptr, true);
  Issued inter = testing::issue("Int", &root, true);
  Issued a = testing::issue("mx.roll.example", &inter, false, {"mx.roll.example"});
  Issued b = testing::issue("mx.roll.example", &inter, false, {"mx.roll.example"});
  KeySource local(const Issued& leaf, const std::string& name) const {
    KeySource k;
    k.name = name;
    k.chain = {testing::info_of(leaf.cert), testing::info_of(inter.cert)};
    k.spki = k.chain[0].spki_der;
    return k;
  }
};

// Record A in service for a day, record B published long enough ago; the
// servers ns1 and ns2 serve `ns1` and `ns2`.
RolloverFacts facts(const Keys& k, std::vector<TlsaRecord> ns1, std::vector<TlsaRecord> ns2,
                    std::string ns2_failure = "") {
  RolloverFacts f;
  f.host = "mx.roll.example";
  f.owner = "_25._tcp.mx.roll.example";
  f.tlsa_security = Security::secure;
  f.tlsa_kind = AnswerKind::data;
  f.tlsa_ttl = 3600;
  f.negative_ttl = 300;
  f.margin = 60;
  f.now = now;
  f.published = {{ee_record_for(k.local(k.a, "a")), now - 86400}, {ee_record_for(k.local(k.b, "b")), now - 86400}};
  ProbeResult p;
  p.address = "192.0.2.25";
  p.chain = {testing::info_of(k.a.cert), testing::info_of(k.inter.cert)};
  p.outcome = Outcome::verified;
  f.served = {p};
  f.current = k.local(k.a, "a.pem");
  f.authoritative = {{"ns1.roll.example", "192.0.2.53", "", std::move(ns1)},
                     {"ns2.roll.example", "192.0.2.54", std::move(ns2_failure), std::move(ns2)}};
  return f;
}

TEST(RolloverAuthoritative, PrecheckNamesTheServerThatLacksTheNewRecord) {
  Keys k;
  auto a = ee_record_for(k.local(k.a, "a"));
  auto b = ee_record_for(k.local(k.b, "b"));
  auto f = facts(k, {a, b}, {a});
  auto r = precheck_certificate(f, k.local(k.b, "b.pem"));
  EXPECT_FALSE(r.safe);
  EXPECT_NE(r.reason.find("ns2.roll.example (192.0.2.54) lacks it"), std::string::npos) << r.reason;
  EXPECT_EQ(r.reason.find("ns1.roll.example"), std::string::npos) << r.reason;
  EXPECT_EQ(servers_lacking(f, {b}), std::vector<std::string>{"ns2.roll.example (192.0.2.54)"});
}

TEST(RolloverAuthoritative, PrecheckPassesWhenEveryServerHasIt) {
  Keys k;
  auto a = ee_record_for(k.local(k.a, "a"));
  auto b = ee_record_for(k.local(k.b, "b"));
  auto r = precheck_certificate(facts(k, {a, b}, {a, b}), k.local(k.b, "b.pem"));
  EXPECT_TRUE(r.safe) << r.reason;
}

// A server that does not answer cannot hand out the old RRset; the resolver
// moves on to another. It is named in the status, but does not block.
TEST(RolloverAuthoritative, AServerThatDoesNotAnswerDoesNotBlock) {
  Keys k;
  auto a = ee_record_for(k.local(k.a, "a"));
  auto b = ee_record_for(k.local(k.b, "b"));
  auto f = facts(k, {a, b}, {}, "timeout");
  EXPECT_TRUE(precheck_certificate(f, k.local(k.b, "b.pem")).safe);
  auto s = rollover_status(f);
  EXPECT_TRUE(s.servers_differing.empty());
  bool named = false;
  for (const auto& x : s.findings) named |= x.find("ns2.roll.example (192.0.2.54) did not answer") != std::string::npos;
  EXPECT_TRUE(named);
}

TEST(RolloverAuthoritative, StatusNamesAServerWithAnotherRrset) {
  Keys k;
  auto a = ee_record_for(k.local(k.a, "a"));
  auto b = ee_record_for(k.local(k.b, "b"));
  auto s = rollover_status(facts(k, {a, b}, {a}));
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.servers_differing, std::vector<std::string>{"ns2.roll.example (192.0.2.54)"});
  EXPECT_TRUE(rollover_status(facts(k, {a, b}, {b, a})).ok);
}

// The rollover wait: step 2 is not done while a server lacks the next record,
// even when the cache wait has passed.
TEST(RolloverAuthoritative, TheWaitIsNotOverWhileAServerLacksTheNextRecord) {
  Keys k;
  auto a = ee_record_for(k.local(k.a, "a"));
  auto b = ee_record_for(k.local(k.b, "b"));
  auto f = facts(k, {a, b}, {a});
  f.next = k.local(k.b, "b.pem");
  auto plan = plan_rollover(f);
  ASSERT_EQ(plan.steps.size(), 5u);
  EXPECT_TRUE(plan.steps[0].done);
  EXPECT_FALSE(plan.steps[1].done);
  EXPECT_NE(plan.steps[1].detail.find("ns2.roll.example (192.0.2.54) lacks it"), std::string::npos)
      << plan.steps[1].detail;

  auto g = facts(k, {a, b}, {a, b});
  g.next = k.local(k.b, "b.pem");
  EXPECT_TRUE(plan_rollover(g).steps[1].done);
}

}  // namespace
}  // namespace danekit
