// "Does this RRset authenticate this chain?" as one table, in the spirit of
// OpenSSL's test/danetest.in: TLSA records + a fixed chain (tests/cli/data) +
// reference identifiers + a pinned time -> OpenSSL's outcome and match depth.
// Every row is also run through explain_records(), the per-record explanation
// tlsa verify and the rollover planner print, which must never contradict it.
#include <gtest/gtest.h>

#include <map>

#include "danekit/authenticate.h"
#include "danekit/keys.h"
#include "danekit/tlsa_generate.h"
#include "util/hex.h"

namespace danekit {
namespace {

// Pinned times: chain.pem, leaf.pem and ca.pem are valid 2026-11-23 to 2126;
// expired-chain.pem's leaf 2001-01-01 to 2002-01-01 (its CA 2000 to 2100).
constexpr std::int64_t y2030 = 1893456000;   // 2030-01-01T00:00:00Z
constexpr std::int64_t y2020 = 1577836800;   // 2020-01-01T00:00:00Z
constexpr std::int64_t mid2001 = 993945600;  // 2001-07-01T00:00:00Z

std::vector<CertInfo> load(const std::string& file) {
  auto c = load_certificates(std::string(DANEKIT_CLI_DATA_DIR) + "/" + file);
  EXPECT_TRUE(c) << file << ": " << (c ? "" : c.error());
  return c ? *c : std::vector<CertInfo>{};
}

struct Pki {
  std::vector<CertInfo> chain = load("chain.pem");  // leaf + CA
  std::vector<CertInfo> leaf_only = load("leaf.pem");
  std::vector<CertInfo> expired = load("expired-chain.pem");  // leaf + CA
  std::map<std::string, std::vector<CertInfo>> by_name() const {
    return {{"chain.pem", chain}, {"leaf.pem", leaf_only}, {"expired-chain.pem", expired}};
  }
};

TlsaRecord of(std::uint8_t u, std::uint8_t s, std::uint8_t m, const CertInfo& c) {
  return {u, s, m, tlsa_association(c, s, m)};
}

struct Row {
  std::string name;
  std::vector<TlsaRecord> records;
  std::string chain;  // file in tests/cli/data
  std::string base;
  std::vector<std::string> extra_names;
  std::int64_t at;
  Outcome want;
  int depth;  // -1: none
};

std::vector<Row> table(const Pki& p) {
  const auto& leaf = p.chain[0];
  const auto& ca = p.chain[1];
  const auto& old_leaf = p.expired[0];
  const auto& old_ca = p.expired[1];
  TlsaRecord garbage_spki{3, 1, 0, {0x00, 0x11, 0x22, 0x33}};
  TlsaRecord garbage_cert{2, 0, 0, {0x30, 0x03, 0x02, 0x01, 0x01}};
  TlsaRecord wrong512{3, 1, 2, std::vector<std::uint8_t>(64, 0x42)};
  const std::string mx = "mx.example.org";
  return {
      // DANE-EE(3): the leaf's key or certificate, no names, no dates (RFC 7672 §3.1.1).
      {"ee-spki", {of(3, 1, 1, leaf)}, "chain.pem", mx, {}, y2030, Outcome::verified, 0},
      {"ee-cert-sha512", {of(3, 0, 2, leaf)}, "chain.pem", mx, {}, y2030, Outcome::verified, 0},
      {"ee-full-spki", {of(3, 1, 0, leaf)}, "chain.pem", mx, {}, y2030, Outcome::verified, 0},
      {"ee-other-name", {of(3, 1, 1, leaf)}, "chain.pem", "mx.other.example", {}, y2030, Outcome::verified, 0},
      {"ee-before-dates", {of(3, 1, 1, leaf)}, "chain.pem", mx, {}, y2020, Outcome::verified, 0},
      {"ee-expired-leaf", {of(3, 1, 1, old_leaf)}, "expired-chain.pem", mx, {}, y2030, Outcome::verified, 0},
      {"ee-of-issuer", {of(3, 1, 1, ca)}, "chain.pem", mx, {}, y2030, Outcome::mismatch, -1},
      // Digest agility (RFC 7671 §9): a wrong SHA2-512 record hides the right SHA2-256 one.
      {"agility", {of(3, 1, 1, leaf), wrong512}, "chain.pem", mx, {}, y2030, Outcome::mismatch, -1},
      // DANE-TA(2): an issuer, with names and dates (§3.1.2, §3.2.2).
      {"ta-spki", {of(2, 1, 1, ca)}, "chain.pem", mx, {}, y2030, Outcome::verified, 1},
      {"ta-cert", {of(2, 0, 1, ca)}, "chain.pem", mx, {}, y2030, Outcome::verified, 1},
      {"ta-no-base", {of(2, 1, 1, ca)}, "chain.pem", "", {}, y2030, Outcome::verified, 1},
      {"ta-name-mismatch", {of(2, 1, 1, ca)}, "chain.pem", "mx.other.example", {}, y2030, Outcome::name_mismatch, -1},
      {"ta-next-hop-name", {of(2, 1, 1, ca)}, "chain.pem", "mx.other.example", {mx}, y2030, Outcome::verified, 1},
      {"ta-not-yet-valid", {of(2, 1, 1, ca)}, "chain.pem", mx, {}, y2020, Outcome::expired, -1},
      {"ta-expired", {of(2, 1, 1, old_ca)}, "expired-chain.pem", mx, {}, y2030, Outcome::expired, -1},
      {"ta-in-dates", {of(2, 1, 1, old_ca)}, "expired-chain.pem", mx, {}, mid2001, Outcome::verified, 1},
      {"ta-expired-but-ee",
       {of(2, 1, 1, old_ca), of(3, 1, 1, old_leaf)},
       "expired-chain.pem",
       mx,
       {},
       y2030,
       Outcome::verified,
       0},
      // The trust anchor is not sent: a digest cannot stand in for it, a full key
      // matches by its signature on the top certificate, a full certificate
      // completes the chain.
      {"ta-digest-not-sent", {of(2, 1, 1, ca)}, "leaf.pem", mx, {}, y2030, Outcome::mismatch, -1},
      {"ta-full-key-not-sent", {of(2, 1, 0, ca)}, "leaf.pem", mx, {}, y2030, Outcome::verified, 0},
      {"ta-full-cert-not-sent", {of(2, 0, 0, ca)}, "leaf.pem", mx, {}, y2030, Outcome::verified, 1},
      {"ta-full-key-not-sent-wrong-name",
       {of(2, 1, 0, ca)},
       "leaf.pem",
       "mx.other.example",
       {},
       y2030,
       Outcome::name_mismatch,
       -1},
      // Full(0) data OpenSSL cannot load is unusable: nothing is accepted.
      {"full-not-a-key", {garbage_spki}, "chain.pem", mx, {}, y2030, Outcome::tls_failed, -1},
      {"full-not-a-cert", {garbage_cert}, "chain.pem", mx, {}, y2030, Outcome::tls_failed, -1},
      {"full-garbage-beside-good", {garbage_spki, of(3, 1, 1, leaf)}, "chain.pem", mx, {}, y2030, Outcome::verified, 0},
  };
}

TEST(Authenticate, TableOfRecordsChainsNamesAndTimes) {
  Pki p;
  auto chains = p.by_name();
  for (const auto& row : table(p)) {
    SCOPED_TRACE(row.name);
    auto a = authenticate(chains.at(row.chain), row.records, row.base, row.extra_names, row.at);
    EXPECT_EQ(to_string(a.outcome), to_string(row.want)) << a.detail;
    EXPECT_EQ(a.depth, row.depth) << a.detail;
  }
}

// explain_records() over the same rows: a record is "matched" exactly where
// OpenSSL verifies the chain with that record alone, "unusable" exactly where
// OpenSSL loads none of it, and a matched record is at OpenSSL's depth.
TEST(Authenticate, PerRecordExplanationsAgreeWithOpenssl) {
  Pki p;
  auto chains = p.by_name();
  for (const auto& row : table(p)) {
    SCOPED_TRACE(row.name);
    DaneContext ctx{row.base, row.extra_names, row.at};
    auto findings = explain_records(row.records, {{row.chain, chains.at(row.chain)}}, ctx);
    ASSERT_EQ(findings.size(), row.records.size());
    bool any_matched = false;
    for (std::size_t i = 0; i < findings.size(); ++i) {
      const auto& f = findings[i];
      auto alone = authenticate(chains.at(row.chain), {row.records[i]}, row.base, row.extra_names, row.at);
      SCOPED_TRACE(to_presentation(f.record) + " " + std::string(to_string(f.status)) + ": " + f.note);
      EXPECT_EQ(f.status == RecordStatus::unusable, alone.accepted == 0);
      if (f.status == RecordStatus::hidden) continue;
      EXPECT_EQ(f.status == RecordStatus::matched, alone.outcome == Outcome::verified);
      if (f.status == RecordStatus::matched) {
        any_matched = true;
        ASSERT_EQ(f.matches.size(), 1u);
        EXPECT_EQ(f.matches[0].depth, alone.depth);
      } else {
        EXPECT_TRUE(f.matches.empty());
      }
    }
    EXPECT_EQ(any_matched, row.want == Outcome::verified);
  }
}

TEST(Authenticate, ExplanationsNameWhatOpensslDecided) {
  Pki p;
  const auto& ca = p.chain[1];
  auto status = [&](const TlsaRecord& r, const std::string& file, const std::string& base, std::int64_t at) {
    auto f = explain_records({r}, {{file, p.by_name().at(file)}}, {base, {}, at});
    return f[0];
  };
  // A digest comparison alone calls this stale; OpenSSL verifies the leaf's
  // signature with the record's key.
  auto outside = status(of(2, 1, 0, ca), "leaf.pem", "mx.example.org", y2030);
  EXPECT_EQ(outside.status, RecordStatus::matched);
  EXPECT_NE(outside.note.find("trust anchor is not in the chain"), std::string::npos) << outside.note;
  // A digest comparison alone calls these matched.
  auto named = status(of(2, 1, 1, ca), "chain.pem", "mx.other.example", y2030);
  EXPECT_EQ(named.status, RecordStatus::rejected);
  EXPECT_NE(named.note.find("names none of mx.other.example"), std::string::npos) << named.note;
  auto dated = status(of(2, 1, 1, p.expired[1]), "expired-chain.pem", "mx.example.org", y2030);
  EXPECT_EQ(dated.status, RecordStatus::rejected);
  EXPECT_NE(dated.note.find("expired"), std::string::npos) << dated.note;
  // A digest comparison alone calls this usable (and stale).
  auto garbage = status(TlsaRecord{3, 1, 0, {0x00, 0x11, 0x22, 0x33}}, "chain.pem", "mx.example.org", y2030);
  EXPECT_EQ(garbage.status, RecordStatus::unusable);
  ASSERT_TRUE(garbage.unusable);
  EXPECT_NE(garbage.unusable->find("SubjectPublicKeyInfo"), std::string::npos) << *garbage.unusable;
  EXPECT_TRUE(records_for_openssl({garbage.record}).empty());
}

// tlsa verify against a file chain: the RRset verdict is OpenSSL's at the
// context's time, and the per-record verdicts agree with it.
TEST(Authenticate, VerifyAgainstAChainUsesOpensslAtTheGivenTime) {
  Pki p;
  KeySource src{"--cert expired-chain.pem", p.expired, p.expired[0].spki_der};
  auto ta = of(2, 1, 1, p.expired[1]);
  auto then = verify_against_source({ta}, src, {"mx.example.org", {}, mid2001});
  EXPECT_EQ(then.verdict, RrsetVerdict::authenticates) << then.verdict_detail;
  EXPECT_EQ(then.records[0].verdict, "matches");
  auto now = verify_against_source({ta}, src, {"mx.example.org", {}, y2030});
  EXPECT_EQ(now.verdict, RrsetVerdict::fails) << now.verdict_detail;
  EXPECT_EQ(now.records[0].verdict, "rejected");
  EXPECT_NE(now.verdict_detail.find("expired"), std::string::npos) << now.verdict_detail;

  KeySource leaf{"--cert leaf.pem", p.leaf_only, p.leaf_only[0].spki_der};
  auto outside = verify_against_source({of(2, 0, 0, p.chain[1])}, leaf, {"mx.example.org", {}, y2030});
  EXPECT_EQ(outside.verdict, RrsetVerdict::authenticates) << outside.verdict_detail;
  EXPECT_EQ(outside.records[0].verdict, "matches");
  ASSERT_EQ(outside.records[0].finding.matches.size(), 1u);
  EXPECT_EQ(outside.records[0].finding.matches[0].depth, 1);

  auto garbage = verify_against_source({TlsaRecord{3, 1, 0, {0x00, 0x11}}}, src, {"mx.example.org", {}, y2030});
  EXPECT_EQ(garbage.verdict, RrsetVerdict::encrypt_only) << garbage.verdict_detail;
  EXPECT_EQ(garbage.records[0].verdict, "unusable");
}

}  // namespace
}  // namespace danekit
