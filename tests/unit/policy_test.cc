// The RFC 7672 ladder as a pure function: DNS facts with their security state,
// the peer's behaviour, and the verdict a DANE sender reaches.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "danekit/policy.h"
#include "scenario.h"
#include "test_pki.h"

namespace danekit {
namespace {

using namespace scenario;
using S = Security;
using K = AnswerKind;

bool has_reason(const CheckReport& r, const std::string& code) {
  for (const auto& x : r.reasons)
    if (x.code == code) return true;
  return false;
}

TEST(Policy, SecureUsableTlsaAndVerifiedIsValid) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::valid);
  EXPECT_EQ(r.delivery, Delivery::authenticated);
  ASSERT_EQ(r.mx.size(), 1u);
  EXPECT_EQ(r.mx[0].dane, HostDane::authenticated);
  EXPECT_EQ(r.mx[0].tlsa_base, "mx.d.example");
  EXPECT_EQ(exit_status_for(r), exit_status::valid);
}

TEST(Policy, BogusMxDefersAndIsNeverOpportunistic) {
  World w;
  w.add(ans("d.example", rrtype::MX, S::bogus, K::failure));
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::dnssec_failure);
  EXPECT_EQ(r.delivery, Delivery::deferred);
  EXPECT_TRUE(r.determined);
  EXPECT_TRUE(has_reason(r, "mx-bogus"));
  EXPECT_EQ(exit_status_for(r), exit_status::dane_problem);
}

TEST(Policy, IndeterminateMxIsUndetermined) {
  World w;
  w.add(ans("d.example", rrtype::MX, S::indeterminate, K::failure));
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::dnssec_failure);
  EXPECT_EQ(r.delivery, Delivery::deferred);
  EXPECT_EQ(exit_status_for(r), exit_status::undetermined);
}

TEST(Policy, BogusTlsaDefersTheHostNeverOpportunistic) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1", S::bogus);
  w.dns[{"_25._tcp.mx.d.example", rrtype::TLSA}].kind = K::failure;
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::dnssec_failure);
  EXPECT_EQ(r.delivery, Delivery::deferred);
  EXPECT_EQ(r.mx[0].dane, HostDane::deferred);
  ASSERT_EQ(r.mx[0].addresses.size(), 1u);
  EXPECT_EQ(r.mx[0].addresses[0].outcome, Outcome::not_checked);
  EXPECT_TRUE(has_reason(r, "tlsa-bogus"));
}

TEST(Policy, IndeterminateTlsaIsNotNoDane) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1", S::indeterminate);
  w.dns[{"_25._tcp.mx.d.example", rrtype::TLSA}].kind = K::failure;
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::dnssec_failure);
  EXPECT_EQ(r.delivery, Delivery::deferred);
  EXPECT_EQ(exit_status_for(r), exit_status::undetermined);
}

TEST(Policy, BogusTlsaOnFirstMxFallsThroughToSecondHost) {
  World w;
  w.mx("d.example", {{10, "mx1.d.example"}, {20, "mx2.d.example"}});
  w.dane_host("mx1.d.example", "192.0.2.1", S::bogus);
  w.dns[{"_25._tcp.mx1.d.example", rrtype::TLSA}].kind = K::failure;
  w.dane_host("mx2.d.example", "192.0.2.2");
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::partial);
  EXPECT_EQ(r.delivery, Delivery::authenticated);
}

TEST(Policy, NxdomainAndNullMxAreNoMail) {
  World w;
  w.add(ans("gone.example", rrtype::MX, S::secure, K::nxdomain));
  auto r = w.run("gone.example");
  EXPECT_EQ(r.verdict, Verdict::no_mail);
  EXPECT_EQ(r.delivery, Delivery::undeliverable);
  w.mx("null.example", {{0, ""}});
  r = w.run("null.example");
  EXPECT_EQ(r.verdict, Verdict::no_mail);
  EXPECT_TRUE(has_reason(r, "null-mx"));
  EXPECT_EQ(exit_status_for(r), exit_status::no_dane);
}

TEST(Policy, NoMxRecordsMeansTheDomainIsTheHost) {
  World w;
  w.add(ans("d.example", rrtype::MX, S::secure, K::nodata));
  w.dane_host("d.example", "192.0.2.9");
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::valid);
  ASSERT_EQ(r.mx.size(), 1u);
  EXPECT_TRUE(r.mx[0].implicit);
  EXPECT_EQ(r.mx[0].host, "d.example");
}

TEST(Policy, InsecureAddressesMeanNoTlsaLookup) {
  World w;
  w.mx("d.example", {{10, "mx.other.example"}});
  w.plain_host("mx.other.example", "192.0.2.1", S::insecure);
  w.add(ans("_25._tcp.mx.other.example", rrtype::TLSA, S::insecure, K::data, {tlsa_rd(3, 1, 1)}));
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::none);
  EXPECT_EQ(r.delivery, Delivery::opportunistic);
  EXPECT_EQ(r.mx[0].dane, HostDane::none);
  for (const auto& q : w.queried) EXPECT_EQ(q.find("TLSA"), std::string::npos) << q;
  EXPECT_TRUE(has_reason(r, "address-insecure"));
}

TEST(Policy, InsecureMxWithSecureHostTlsaIsPartialButAuthenticated) {
  World w;
  w.mx("d.example", {{10, "mx.signed.example"}}, S::insecure);
  w.dane_host("mx.signed.example", "192.0.2.1");
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::partial);
  EXPECT_EQ(r.delivery, Delivery::authenticated);
  EXPECT_TRUE(has_reason(r, "mx-insecure"));
  w.ctx.insecure_mx = InsecureMxPolicy::may;
  r = w.run("d.example");
  EXPECT_EQ(r.delivery, Delivery::opportunistic);
}

TEST(Policy, AllRecordsUnusableIsEncryptOnly) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  w.dns[{"_25._tcp.mx.d.example", rrtype::TLSA}].rdata = {tlsa_rd(0, 0, 1), tlsa_rd(1, 1, 1)};
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::unusable);
  EXPECT_EQ(r.delivery, Delivery::encrypted);
  EXPECT_EQ(r.mx[0].dane, HostDane::encrypt_only);
  EXPECT_TRUE(has_reason(r, "tlsa-unusable"));
}

TEST(Policy, EncryptOnlyHostWithoutStarttlsDefers) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  w.dns[{"_25._tcp.mx.d.example", rrtype::TLSA}].rdata = {tlsa_rd(1, 1, 1)};
  w.server = [](const ProbeRequest&) { return Outcome::no_starttls; };
  auto r = w.run("d.example");
  EXPECT_EQ(r.delivery, Delivery::deferred);
}

TEST(Policy, InsecureTlsaIsIgnored) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1", S::insecure);
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::none);
  EXPECT_EQ(r.delivery, Delivery::opportunistic);
  EXPECT_TRUE(has_reason(r, "tlsa-insecure"));
}

TEST(Policy, MismatchDefersAndIsInvalid) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  w.server = [](const ProbeRequest&) { return Outcome::mismatch; };
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::invalid);
  EXPECT_EQ(r.delivery, Delivery::deferred);
  EXPECT_EQ(r.mx[0].dane, HostDane::failed);
  EXPECT_TRUE(has_reason(r, "dane-mismatch"));
  EXPECT_EQ(exit_status_for(r), exit_status::dane_problem);
}

TEST(Policy, NoStarttlsUnderDaneIsAFailureNotADowngrade) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  w.server = [](const ProbeRequest&) { return Outcome::no_starttls; };
  auto r = w.run("d.example");
  EXPECT_EQ(r.delivery, Delivery::deferred);
  EXPECT_TRUE(has_reason(r, "starttls-missing"));
}

TEST(Policy, UnreachableOnlyIsUndetermined) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  w.server = [](const ProbeRequest&) { return Outcome::unreachable; };
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::invalid);
  EXPECT_EQ(exit_status_for(r), exit_status::undetermined);
}

TEST(Policy, MultiMxFallThroughIsPartialAndAuthenticated) {
  World w;
  w.mx("d.example", {{10, "mx1.d.example"}, {20, "mx2.d.example"}});
  w.dane_host("mx1.d.example", "192.0.2.1");
  w.dane_host("mx2.d.example", "192.0.2.2");
  w.server = [](const ProbeRequest& r) { return r.address == "192.0.2.1" ? Outcome::mismatch : Outcome::verified; };
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::partial);
  EXPECT_EQ(r.delivery, Delivery::authenticated);
  EXPECT_EQ(r.mx[0].dane, HostDane::failed);
  EXPECT_EQ(r.mx[1].dane, HostDane::authenticated);
}

TEST(Policy, DaneHostFailingThenNonDaneHostIsOpportunistic) {
  World w;
  w.mx("d.example", {{10, "mx1.d.example"}, {20, "mx2.d.example"}});
  w.dane_host("mx1.d.example", "192.0.2.1");
  w.plain_host("mx2.d.example", "192.0.2.2");
  w.server = [](const ProbeRequest& r) { return r.mode == ProbeMode::dane ? Outcome::mismatch : Outcome::encrypted; };
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::invalid);  // DANE published, no host authenticates
  EXPECT_EQ(r.delivery, Delivery::opportunistic);
  EXPECT_TRUE(has_reason(r, "mixed-dane"));
}

TEST(Policy, MixedDaneIsFlagged) {
  World w;
  w.mx("d.example", {{10, "mx1.d.example"}, {20, "mx2.d.example"}});
  w.dane_host("mx1.d.example", "192.0.2.1");
  w.plain_host("mx2.d.example", "192.0.2.2");
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::partial);
  EXPECT_EQ(r.delivery, Delivery::authenticated);
  EXPECT_TRUE(has_reason(r, "mixed-dane"));
}

TEST(Policy, CnameExpandedNameIsTriedFirstThenTheOriginal) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.add(ans("mx.d.example", rrtype::A, S::secure, K::data, {a_rd("192.0.2.1")}, {"host.t.example"}));
  w.add(ans("mx.d.example", rrtype::AAAA, S::secure, K::nodata, {}, {"host.t.example"}));
  w.add(ans("_25._tcp.host.t.example", rrtype::TLSA, S::secure, K::nxdomain));
  w.add(ans("_25._tcp.mx.d.example", rrtype::TLSA, S::secure, K::data, {tlsa_rd(3, 1, 1)}));
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::valid);
  EXPECT_EQ(r.mx[0].tlsa_base, "mx.d.example");
  EXPECT_TRUE(r.mx[0].is_cname);
  EXPECT_TRUE(has_reason(r, "mx-cname"));
  std::vector<std::string> tlsa;
  for (const auto& q : w.queried)
    if (q.starts_with("TLSA")) tlsa.push_back(q);
  EXPECT_EQ(tlsa, (std::vector<std::string>{"TLSA _25._tcp.host.t.example", "TLSA _25._tcp.mx.d.example"}));
}

TEST(Policy, CnameTargetWithRecordsIsTheBase) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.add(ans("mx.d.example", rrtype::A, S::secure, K::data, {a_rd("192.0.2.1")}, {"host.t.example"}));
  w.add(ans("mx.d.example", rrtype::AAAA, S::secure, K::nodata, {}, {"host.t.example"}));
  w.add(ans("_25._tcp.host.t.example", rrtype::TLSA, S::secure, K::data, {tlsa_rd(3, 1, 1)}));
  auto r = w.run("d.example");
  EXPECT_EQ(r.mx[0].tlsa_base, "host.t.example");
  EXPECT_EQ(r.verdict, Verdict::valid);
}

TEST(Policy, CnameIntoUnsignedSpaceUsesOnlyTheOriginalNameWhenItsAliasIsSecure) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.add(ans("mx.d.example", rrtype::A, S::insecure, K::data, {a_rd("192.0.2.1")}, {"host.unsigned.example"}));
  w.add(ans("mx.d.example", rrtype::AAAA, S::insecure, K::nodata, {}, {"host.unsigned.example"}));
  w.add(ans("mx.d.example", rrtype::CNAME, S::secure, K::data, {}));
  w.add(ans("_25._tcp.mx.d.example", rrtype::TLSA, S::secure, K::data, {tlsa_rd(3, 1, 1)}));
  auto r = w.run("d.example");
  EXPECT_EQ(r.mx[0].tlsa_base, "mx.d.example");
  EXPECT_EQ(r.verdict, Verdict::valid);
  // and when the alias itself is insecure: no TLSA lookup at all
  World v = w;
  v.queried.clear();
  v.dns[{"mx.d.example", rrtype::CNAME}].security = S::insecure;
  r = v.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::none);
}

TEST(Policy, OneFamilyBogusTheOtherSecureProceedsOverTheSecureOne) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  w.add(ans("mx.d.example", rrtype::AAAA, S::bogus, K::failure));
  auto r = w.run("d.example");
  EXPECT_EQ(r.delivery, Delivery::authenticated);
  EXPECT_TRUE(has_reason(r, "address-bogus"));
  ASSERT_EQ(r.mx[0].addresses.size(), 1u);
}

TEST(Policy, BothFamiliesBogusDefersTheHost) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.add(ans("mx.d.example", rrtype::A, S::bogus, K::failure));
  w.add(ans("mx.d.example", rrtype::AAAA, S::bogus, K::failure));
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::dnssec_failure);
  EXPECT_EQ(r.delivery, Delivery::deferred);
  EXPECT_EQ(r.mx[0].dane, HostDane::deferred);
}

TEST(Policy, DualStackWithOneFailingAddressIsPartial) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  w.add(ans("mx.d.example", rrtype::AAAA, S::secure, K::data, {a_rd("2001:db8::1")}));
  w.server = [](const ProbeRequest& r) { return r.address == "2001:db8::1" ? Outcome::mismatch : Outcome::verified; };
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::partial);
  EXPECT_EQ(r.delivery, Delivery::authenticated);
  EXPECT_EQ(r.mx[0].dane, HostDane::authenticated);
}

TEST(Policy, FamilyFilterSkipsTheOtherFamily) {
  World w;
  w.ctx.ipv6 = false;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  auto r = w.run("d.example");
  for (const auto& q : w.queried) EXPECT_EQ(q.find("AAAA"), std::string::npos);
  EXPECT_EQ(r.verdict, Verdict::valid);
}

TEST(Policy, MxTargetsAreSortedDedupedAndTldTargetsSkipped) {
  World w;
  w.mx("d.example", {{20, "b.d.example"}, {10, "a.d.example"}, {30, "a.d.example"}, {5, "com"}});
  w.dane_host("a.d.example", "192.0.2.1");
  w.dane_host("b.d.example", "192.0.2.2");
  auto r = w.run("d.example");
  ASSERT_EQ(r.mx.size(), 2u);
  EXPECT_EQ(r.mx[0].host, "a.d.example");
  EXPECT_EQ(r.mx[1].host, "b.d.example");
  EXPECT_TRUE(has_reason(r, "mx-invalid-target"));
}

TEST(Policy, MxHostsThatDoNotExistMakeMailUndeliverableNotDeferred) {
  World w;
  w.mx("d.example", {{10, "gone.d.example"}});
  w.add(ans("gone.d.example", rrtype::A, S::secure, K::nxdomain));
  w.add(ans("gone.d.example", rrtype::AAAA, S::secure, K::nxdomain));
  auto r = w.run("d.example");
  EXPECT_EQ(r.delivery, Delivery::undeliverable);
  EXPECT_TRUE(has_reason(r, "host-no-address"));
  // but a lookup failure on one of them is a deferral
  w.add(ans("gone.d.example", rrtype::AAAA, S::indeterminate, K::failure));
  r = w.run("d.example");
  EXPECT_EQ(r.delivery, Delivery::deferred);
}

// A verified DANE-TA address with a chain expiring at `not_after`; the 2 1 0
// record's key is the issuer's (sent) or a key the server does not send.
// A DER SubjectPublicKeyInfo OpenSSL accepts as Full(0) data (a made-up one
// would now be an unusable record, as senders judge it).
std::vector<std::uint8_t> real_spki() {
  static const std::vector<std::uint8_t> spki = [] {
    auto key = danekit::testing::make_key();
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(key.get(), &der);
    std::vector<std::uint8_t> out(der, der + n);
    OPENSSL_free(der);
    return out;
  }();
  return spki;
}

World ta_world(std::int64_t not_after, bool anchor_sent) {
  const std::vector<std::uint8_t> anchor_key = real_spki();
  World w;
  w.ctx.now = 1800000000;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  w.dns[{"_25._tcp.mx.d.example", rrtype::TLSA}].rdata = {tlsa_rd(2, 1, 0, anchor_key)};
  w.probe = [=](const ProbeRequest& req) {
    ProbeResult p;
    p.address = req.address;
    p.outcome = Outcome::verified;
    p.matched = req.records.front();
    p.match_depth = 1;
    p.chain.resize(2);
    for (auto& c : p.chain) c.not_after = not_after;
    p.chain[1].spki_der = anchor_sent ? anchor_key : std::vector<std::uint8_t>(anchor_key.size(), 0x17);
    return p;
  };
  return w;
}

TEST(Policy, DaysWarnsBeforeADaneTaChainExpires) {
  auto w = ta_world(1800000000 + 10 * 86400, true);
  EXPECT_FALSE(has_reason(w.run("d.example"), "chain-expires-soon"));
  w.ctx.warn_days = 30;
  auto r = w.run("d.example");
  EXPECT_TRUE(has_reason(r, "chain-expires-soon"));
  EXPECT_EQ(r.verdict, Verdict::valid);  // a warning, not a failure
}

TEST(Policy, DaneTaKeyNotSentIsAWarning) {
  EXPECT_FALSE(has_reason(ta_world(1900000000, true).run("d.example"), "ta-not-sent"));
  auto r = ta_world(1900000000, false).run("d.example");
  EXPECT_TRUE(has_reason(r, "ta-not-sent"));
  EXPECT_EQ(r.verdict, Verdict::valid);
}

TEST(Policy, TooManyRecordsWarn) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  std::vector<std::vector<std::uint8_t>> many;
  for (int i = 0; i < 13; ++i)
    many.push_back(tlsa_rd(3, 1, 1, std::vector<std::uint8_t>(32, static_cast<std::uint8_t>(i))));
  w.dns[{"_25._tcp.mx.d.example", rrtype::TLSA}].rdata = many;
  auto r = w.run("d.example");
  EXPECT_TRUE(has_reason(r, "tlsa-too-many"));
}

TEST(Policy, DaneTaReferenceIdentifiersIncludeTheNextHopWhateverTheMxSecurity) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  Answer mx = w.lookup("d.example", rrtype::MX);
  auto plan = plan_mx("d.example", mx);
  HostFacts f;
  f.target = plan.hosts[0];
  f.a = w.lookup("mx.d.example", rrtype::A);
  f.aaaa = w.lookup("mx.d.example", rrtype::AAAA);
  f.tlsa.push_back(w.lookup("_25._tcp.mx.d.example", rrtype::TLSA));
  auto hp = plan_host("d.example", S::secure, f, w.ctx);
  EXPECT_EQ(hp.extra_names, std::vector<std::string>{"d.example"});
  // Postfix takes the next-hop name whatever the MX RRset's security (it logs
  // "Trusted" for an insecure one); the report flags that case separately.
  hp = plan_host("d.example", S::insecure, f, w.ctx);
  EXPECT_EQ(hp.extra_names, std::vector<std::string>{"d.example"});
}

}  // namespace
}  // namespace danekit

namespace danekit {
namespace {

using namespace scenario;

TEST(Policy, MxTargetWithBytesOutsideAHostNameIsMalformedNotMangled) {
  // "mx\.evil" (a dot inside a label) and "\000x": neither may be looked up
  // as some other, existing name.
  World w;
  auto raw = [](std::vector<std::uint8_t> name) {
    std::vector<std::uint8_t> rd{0, 10};
    rd.insert(rd.end(), name.begin(), name.end());
    return rd;
  };
  std::vector<std::uint8_t> dotted{6, 'm', 'x', '.', 'e', 'v', 'l', 1, 'd', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
  std::vector<std::uint8_t> nul{2, 0, 'x', 1, 'd', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
  w.add(ans("d.example", rrtype::MX, S::secure, K::data, {raw(dotted), raw(nul), mx_rd(20, "mx.d.example")}));
  w.dane_host("mx.d.example", "192.0.2.1");
  auto r = w.run("d.example");
  ASSERT_EQ(r.mx.size(), 1u);
  EXPECT_EQ(r.mx[0].host, "mx.d.example");
  EXPECT_EQ(r.verdict, Verdict::valid);
  int malformed = 0;
  for (const auto& x : r.reasons) malformed += x.code == "mx-malformed";
  EXPECT_EQ(malformed, 2);
  for (const auto& q : w.queried) EXPECT_EQ(q.find('?'), std::string::npos) << q;
}

}  // namespace
}  // namespace danekit

namespace danekit {
namespace {

using namespace scenario;

// Each way an exchange can fail has its own code and fix (issue: "name each
// failure for what it was"); the transport failures stay undetermined.
TEST(Policy, EachProbeFailureIsNamedForWhatItWas) {
  struct Row {
    Outcome outcome;
    const char* stage;
    const char* failure;
    const char* verify_error;
    const char* code;
    bool determined;
  };
  const Row rows[] = {
      {Outcome::unreachable, "connect", "refused", "", "connection-refused", false},
      {Outcome::unreachable, "connect", "timeout", "", "connect-timeout", false},
      {Outcome::unreachable, "connect", "host-unreachable", "", "host-unreachable", false},
      {Outcome::unreachable, "banner", "closed", "", "smtp-session-failed", false},
      {Outcome::unreachable, "starttls", "reset", "", "starttls-no-answer", false},
      {Outcome::unreachable, "starttls", "timeout", "", "starttls-no-answer", false},
      {Outcome::tls_failed, "handshake", "tls-alert", "", "tls-alert", true},
      {Outcome::tls_failed, "handshake", "reset", "", "tls-handshake-interrupted", true},
      {Outcome::tls_failed, "handshake", "tls-protocol", "", "tls-handshake-failed", true},
      {Outcome::policy_rejected, "done", "", "EE certificate key too weak", "tls-policy-rejected", true},
      {Outcome::no_starttls, "ehlo", "", "", "starttls-missing", true},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.code);
    World w;
    w.mx("d.example", {{10, "mx.d.example"}});
    w.dane_host("mx.d.example", "192.0.2.1");
    w.probe = [&](const ProbeRequest& req) {
      ProbeResult p;
      p.address = req.address;
      p.outcome = row.outcome;
      p.stage = row.stage;
      p.failure = row.failure;
      p.verify_error = row.verify_error;
      p.detail = "detail";
      return p;
    };
    auto r = w.run("d.example");
    ASSERT_FALSE(r.reasons.empty());
    EXPECT_EQ(r.reasons.back().code, row.code);
    EXPECT_EQ(r.verdict, Verdict::invalid);
    EXPECT_EQ(r.delivery, Delivery::deferred);
    EXPECT_EQ(r.determined, row.determined);
    EXPECT_EQ(exit_status_for(r), row.determined ? exit_status::dane_problem : exit_status::undetermined);
    // Never the "publish TLSA records" advice for trouble that is not a mismatch.
    EXPECT_EQ(r.reasons.back().fix.find("Publish TLSA"), std::string::npos);
  }
}

TEST(Policy, AWeakKeyIsNamedAsOpenSslsLimitWithAFixForIt) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  w.probe = [](const ProbeRequest& req) {
    ProbeResult p;
    p.address = req.address;
    p.outcome = Outcome::policy_rejected;
    p.verify_error = "CA certificate key too weak";
    return p;
  };
  auto r = w.run("d.example");
  ASSERT_FALSE(r.reasons.empty());
  EXPECT_EQ(r.reasons.back().code, "tls-policy-rejected");
  EXPECT_NE(r.reasons.back().fix.find("2048"), std::string::npos) << r.reasons.back().fix;
}

// Full(0) data that is not a certificate or key: senders log "unusable TLSA
// RR", and with no usable record left they deliver over unauthenticated TLS.
TEST(Policy, FullValueRecordsThatDoNotDecodeAreUnusableAndMailIsEncrypted) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dane_host("mx.d.example", "192.0.2.1");
  w.dns[{"_25._tcp.mx.d.example", rrtype::TLSA}].rdata = {tlsa_rd(3, 1, 0, std::vector<std::uint8_t>(70, 0x30)),
                                                          tlsa_rd(2, 0, 0, std::vector<std::uint8_t>{0x30, 0x03})};
  w.server = [](const ProbeRequest& req) {
    EXPECT_EQ(req.mode, ProbeMode::encrypt);
    return Outcome::encrypted;
  };
  auto r = w.run("d.example");
  EXPECT_EQ(r.verdict, Verdict::unusable);
  EXPECT_EQ(r.delivery, Delivery::encrypted);
  ASSERT_EQ(r.mx[0].records.size(), 2u);
  EXPECT_EQ(r.mx[0].records[0].status, RecordStatus::unusable);
  EXPECT_EQ(r.mx[0].records[0].unusable_kind, Unusable::bad_public_key);
  EXPECT_EQ(r.mx[0].records[1].unusable_kind, Unusable::bad_certificate);
  EXPECT_TRUE(has_reason(r, "tlsa-unusable"));
}

TEST(Policy, NextHopNameBehindAnInsecureMxAuthenticatesAndIsFlagged) {
  World w;
  w.mx("d.example", {{10, "mx.d.example"}});
  w.dns[{"d.example", rrtype::MX}].security = Security::insecure;
  w.dane_host("mx.d.example", "192.0.2.1");
  w.dns[{"_25._tcp.mx.d.example", rrtype::TLSA}].rdata = {tlsa_rd(2, 1, 1, std::vector<std::uint8_t>(32, 7))};
  w.probe = [](const ProbeRequest& req) {
    ProbeResult p;
    p.address = req.address;
    EXPECT_NE(std::find(req.extra_names.begin(), req.extra_names.end(), "d.example"), req.extra_names.end());
    p.outcome = Outcome::verified;
    p.matched = req.records.front();
    p.match_depth = 1;
    p.matched_name = "d.example";
    return p;
  };
  auto r = w.run("d.example");
  EXPECT_EQ(r.delivery, Delivery::authenticated);
  EXPECT_EQ(r.verdict, Verdict::partial);  // an insecure MX RRset is never "valid"
  EXPECT_TRUE(has_reason(r, "ta-nexthop-insecure-mx"));
  // Behind a secure MX RRset the same match is ordinary RFC 7672 §3.2.2.
  w.dns[{"d.example", rrtype::MX}].security = Security::secure;
  auto s = w.run("d.example");
  EXPECT_EQ(s.verdict, Verdict::valid);
  EXPECT_FALSE(has_reason(s, "ta-nexthop-insecure-mx"));
}

}  // namespace
}  // namespace danekit

namespace danekit {
namespace {

using namespace scenario;

TEST(Policy, ATlsaOwnerOver255OctetsIsPermanentNotALookupToRetry) {
  // 245 characters of host: "_25._tcp." makes 254, 256 octets on the wire.
  std::string host = std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(60, 'c') + "." +
                     std::string(52, 'd') + ".d.example";
  ASSERT_EQ(host.size(), 245u);
  World w;
  w.mx("d.example", {{10, host}});
  w.dane_host(host, "192.0.2.1");
  auto r = w.run("d.example");
  EXPECT_TRUE(has_reason(r, "tlsa-owner-too-long"));
  EXPECT_EQ(r.verdict, Verdict::invalid);  // the domain's DANE problem, not DNSSEC's
  EXPECT_EQ(r.delivery, Delivery::deferred);
  EXPECT_TRUE(r.determined);
  EXPECT_EQ(exit_status_for(r), exit_status::dane_problem);
  for (const auto& q : w.queried) EXPECT_NE(q, "TLSA _25._tcp." + host) << "looked up an impossible name";
  // One character less fits.
  host.erase(0, 1);
  World ok;
  ok.mx("d.example", {{10, host}});
  ok.dane_host(host, "192.0.2.1");
  EXPECT_FALSE(has_reason(ok.run("d.example"), "tlsa-owner-too-long"));
}

}  // namespace
}  // namespace danekit

namespace danekit {
namespace {

using namespace scenario;

TEST(Policy, MxAddressesInSpecialPurposeRangesAreFlagged) {
  struct Row {
    const char* address;
    bool flagged;
  };
  const Row rows[] = {{"127.0.0.1", true},     {"10.1.2.3", true}, {"192.0.2.1", true},    {"::ffff:127.0.0.1", true},
                      {"2002:7f00:1::", true}, {"8.8.8.8", false}, {"2a00:1450::1", false}};
  for (const auto& row : rows) {
    SCOPED_TRACE(row.address);
    World w;
    w.ctx.flag_special_addresses = true;
    w.mx("d.example", {{10, "mx.d.example"}});
    w.dane_host("mx.d.example", "192.0.2.1");
    std::string addr = row.address;
    if (addr.find(':') != std::string::npos) {
      std::vector<std::uint8_t> rd(16);
      ASSERT_EQ(inet_pton(AF_INET6, addr.c_str(), rd.data()), 1);
      w.add(ans("mx.d.example", rrtype::A, S::secure, K::nodata));
      w.add(ans("mx.d.example", rrtype::AAAA, S::secure, K::data, {rd}));
    } else {
      w.add(ans("mx.d.example", rrtype::A, S::secure, K::data, {a_rd(addr)}));
    }
    auto r = w.run("d.example");
    EXPECT_EQ(has_reason(r, "address-special-purpose"), row.flagged);
    EXPECT_EQ(r.verdict, Verdict::valid);  // a warning: the probe still decides
    w.ctx.flag_special_addresses = false;  // --allow-special-addresses
    EXPECT_FALSE(has_reason(w.run("d.example"), "address-special-purpose"));
  }
}

}  // namespace
}  // namespace danekit
