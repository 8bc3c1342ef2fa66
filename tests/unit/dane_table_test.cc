// OpenSSL's offline DANE verification as one table, in the spirit of OpenSSL's
// test/danetest.in: each row is a chain (certificates of the fixed-date PKI in
// tests/unit/data/dane-table, in the order a server sends them), a TLSA RRset
// (computed from those certificates or given literally), reference
// identifiers and a pinned time, and the expected result and match depth.
//
// Every row runs the path a sender takes: records_for_openssl() (what a DANE
// SMTP client hands to OpenSSL, RFC 7672 §3.1.3), then authenticate(). Every
// row with usable records is also run through a real TLS handshake in memory
// with DANE enabled on the client (SSL_dane_enable, as Postfix does it), and
// authenticate()'s verification error and depth must equal the handshake's:
// the offline path is OpenSSL's own answer, not a re-implementation of it.
#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <map>
#include <memory>

#include "danekit/authenticate.h"
#include "danekit/keys.h"
#include "danekit/tlsa_generate.h"
#include "util/hex.h"

namespace danekit {
namespace {

// tests/unit/data/dane-table, beside tests/unit/golden.
const std::string data_dir = std::string(DANEKIT_GOLDEN_DIR) + "/../data/dane-table";

// The valid certificates are valid 2025-01-01 to 2035-01-01; leaf-expired
// 2020-01-01 to 2020-12-31; leaf-future 2040-01-01 to 2045-01-01.
constexpr std::int64_t at2030 = 1893456000;  // 2030-01-01T00:00:00Z, the pinned time
constexpr std::int64_t at2020 = 1593561600;  // 2020-07-01T00:00:00Z: leaf-expired valid, its CAs not yet

const std::vector<std::string> cert_names = {"root",
                                             "int",
                                             "other-root",
                                             "leaf-ec",
                                             "leaf-rsa",
                                             "leaf-other",
                                             "leaf-expired",
                                             "leaf-future",
                                             "leaf-wrong-name",
                                             "leaf-self",
                                             "leaf-next-hop",
                                             "leaf-wildcard",
                                             "leaf-deep-wildcard",
                                             "long-root",
                                             "long-1",
                                             "long-2",
                                             "long-3",
                                             "long-4",
                                             "long-5",
                                             "long-6",
                                             "long-7",
                                             "long-8",
                                             "long-9",
                                             "long-10",
                                             "long-11",
                                             "long-leaf"};

struct Pki {
  std::map<std::string, CertInfo> certs;
  Pki() {
    for (const auto& n : cert_names) {
      auto c = load_certificates(data_dir + "/" + n + ".pem");
      if (!c || c->size() != 1) {
        ADD_FAILURE() << n << ".pem: " << (c ? "not one certificate" : c.error());
        continue;
      }
      certs[n] = c->front();
    }
  }
  const CertInfo& operator[](const std::string& n) const { return certs.at(n); }
};

const Pki& pki() {
  static const Pki p;
  return p;
}

// A record computed from one of the certificates.
TlsaRecord of(std::uint8_t u, std::uint8_t s, std::uint8_t m, const std::string& cert) {
  return {u, s, m, tlsa_association(pki()[cert], s, m)};
}
// A record given literally.
TlsaRecord lit(std::uint8_t u, std::uint8_t s, std::uint8_t m, std::vector<std::uint8_t> data) {
  return {u, s, m, std::move(data)};
}
std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t v) { return std::vector<std::uint8_t>(n, v); }
std::vector<std::uint8_t> plus_byte(std::vector<std::uint8_t> v) {
  v.push_back(0);
  return v;
}

const std::vector<std::string> chain_ec = {"leaf-ec", "int", "root"};
const std::vector<std::string> chain_rsa = {"leaf-rsa", "int", "root"};
std::vector<std::string> with_leaf(const std::string& leaf) { return {leaf, "int", "root"}; }
std::vector<std::string> long_chain() {
  std::vector<std::string> c = {"long-leaf"};
  for (int i = 11; i >= 1; --i) c.push_back("long-" + std::to_string(i));
  c.push_back("long-root");
  return c;
}

// Digests of the checked-in certificates, as literal record data (danetest.in style).
const std::string leaf_ec_spki_sha256 = "f7664f394a26a4639fee16aea1d9c560303b2ebedbb56a35657d1295ba7651f2";
const std::string leaf_rsa_spki_sha256 = "812fcce441428666dc1c02ff45f075c7487744b3cf0b9b08031b5fcd742ec2a9";
const std::string root_cert_sha256 = "dbac63831c33c164c48f99419ba569a90357cb699ffd9f6fdcb2564084ac61de";
TlsaRecord hex(std::uint8_t u, std::uint8_t s, std::uint8_t m, const std::string& h) {
  return {u, s, m, from_hex(h).value()};
}

constexpr int none = -1;
const std::string mx = "mx.example.com";

struct Row {
  std::string name;
  std::vector<std::string> chain;
  std::vector<TlsaRecord> records;
  std::string base;                      // TLSA base domain, the first reference identifier
  std::vector<std::string> extra_names;  // further reference identifiers (the next-hop domain)
  std::int64_t at;
  std::string want;               // Outcome (to_string), or "no-usable": records_for_openssl() keeps none
  int depth;                      // chain depth of the match, -1 none
  std::size_t usable;             // records a sender hands to OpenSSL
  std::string verify_error = {};  // OpenSSL's verification error, when the row pins it
};

std::vector<Row> table() {
  const auto wrong32 = bytes(32, 0x42);
  const auto wrong64 = bytes(64, 0x42);
  // One row per line (clang-format off).
  // clang-format off
  return {
      // DANE-EE(3): the leaf, every selector and matching type; no names, no dates (RFC 7672 §3.1.1, §3.2.1).
      {"ee-literal-spki-sha256", chain_ec, {hex(3, 1, 1, leaf_ec_spki_sha256)}, mx, {}, at2030, "verified", 0, 1},
      {"ee-literal-other-key", chain_ec, {hex(3, 1, 1, leaf_rsa_spki_sha256)}, mx, {}, at2030, "mismatch", none, 1},
      {"ta-literal-root-cert-sha256", chain_ec, {hex(2, 0, 1, root_cert_sha256)}, mx, {}, at2030, "verified", 2, 1},
      {"ee-cert-full", chain_ec, {of(3, 0, 0, "leaf-ec")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-cert-sha256", chain_ec, {of(3, 0, 1, "leaf-ec")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-cert-sha512", chain_ec, {of(3, 0, 2, "leaf-ec")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-spki-full", chain_ec, {of(3, 1, 0, "leaf-ec")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-spki-sha256", chain_ec, {of(3, 1, 1, "leaf-ec")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-spki-sha512", chain_ec, {of(3, 1, 2, "leaf-ec")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-cert-full-other", chain_ec, {of(3, 0, 0, "leaf-rsa")}, mx, {}, at2030, "mismatch", none, 1},
      {"ee-cert-sha256-other", chain_ec, {of(3, 0, 1, "leaf-rsa")}, mx, {}, at2030, "mismatch", none, 1},
      {"ee-cert-sha512-other", chain_ec, {of(3, 0, 2, "leaf-rsa")}, mx, {}, at2030, "mismatch", none, 1},
      {"ee-spki-full-other", chain_ec, {of(3, 1, 0, "leaf-rsa")}, mx, {}, at2030, "mismatch", none, 1},
      {"ee-spki-sha256-other", chain_ec, {of(3, 1, 1, "leaf-rsa")}, mx, {}, at2030, "mismatch", none, 1},
      {"ee-spki-sha512-other", chain_ec, {of(3, 1, 2, "leaf-rsa")}, mx, {}, at2030, "mismatch", none, 1},
      {"ee-rsa-spki", chain_rsa, {of(3, 1, 1, "leaf-rsa")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-rsa-cert-sha512", chain_rsa, {of(3, 0, 2, "leaf-rsa")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-rsa-record-ec-chain", chain_rsa, {of(3, 1, 1, "leaf-ec")}, mx, {}, at2030, "mismatch", none, 1},
      {"ee-of-issuer", chain_ec, {of(3, 1, 1, "int")}, mx, {}, at2030, "mismatch", none, 1},
      {"ee-leaf-alone", {"leaf-ec"}, {of(3, 1, 1, "leaf-ec")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-expired-leaf", with_leaf("leaf-expired"), {of(3, 1, 1, "leaf-expired")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-not-yet-valid-leaf", with_leaf("leaf-future"), {of(3, 1, 1, "leaf-future")},
       mx, {}, at2030, "verified", 0, 1},
      {"ee-wrong-name", with_leaf("leaf-wrong-name"), {of(3, 1, 1, "leaf-wrong-name")},
       mx, {}, at2030, "verified", 0, 1},
      {"ee-self-signed", {"leaf-self"}, {of(3, 1, 1, "leaf-self")}, mx, {}, at2030, "verified", 0, 1},
      {"ee-unrelated-ca", {"leaf-other", "other-root"}, {of(3, 1, 1, "leaf-other")}, mx, {}, at2030, "verified", 0, 1},

      // DANE-TA(2) at depth 1 (the intermediate) and 2 (the root) (RFC 7672 §3.1.2).
      {"ta-int-cert-sha256", chain_ec, {of(2, 0, 1, "int")}, mx, {}, at2030, "verified", 1, 1},
      {"ta-int-spki-sha512", chain_ec, {of(2, 1, 2, "int")}, mx, {}, at2030, "verified", 1, 1},
      {"ta-int-cert-full", chain_ec, {of(2, 0, 0, "int")}, mx, {}, at2030, "verified", 1, 1},
      {"ta-root-cert-sha256", chain_ec, {of(2, 0, 1, "root")}, mx, {}, at2030, "verified", 2, 1},
      {"ta-root-spki-sha256", chain_ec, {of(2, 1, 1, "root")}, mx, {}, at2030, "verified", 2, 1},
      {"ta-root-cert-sha512", chain_ec, {of(2, 0, 2, "root")}, mx, {}, at2030, "verified", 2, 1},
      {"ta-root-spki-full", chain_ec, {of(2, 1, 0, "root")}, mx, {}, at2030, "verified", 2, 1},
      {"ta-rsa-leaf", chain_rsa, {of(2, 0, 1, "int")}, mx, {}, at2030, "verified", 1, 1},
      {"ta-unrelated-ca", chain_ec, {of(2, 0, 1, "other-root")}, mx, {}, at2030, "mismatch", none, 1},
      {"ta-of-unrelated-chain", {"leaf-other", "other-root"}, {of(2, 0, 1, "other-root")},
       mx, {}, at2030, "verified", 1, 1},
      {"ta-ours-unrelated-chain", {"leaf-other", "other-root"}, {of(2, 0, 1, "root")},
       mx, {}, at2030, "mismatch", none, 1},
      // The trust anchor not in the chain: a digest cannot stand in for it, a
      // full certificate completes the chain, a full key verifies the
      // signature on the topmost certificate sent.
      {"ta-root-not-sent-digest", {"leaf-ec", "int"}, {of(2, 0, 1, "root")}, mx, {}, at2030, "mismatch", none, 1},
      {"ta-root-not-sent-full-cert", {"leaf-ec", "int"}, {of(2, 0, 0, "root")}, mx, {}, at2030, "verified", 2, 1},
      {"ta-root-not-sent-full-spki", {"leaf-ec", "int"}, {of(2, 1, 0, "root")}, mx, {}, at2030, "verified", 1, 1},
      {"ta-int-not-sent-full-cert", {"leaf-ec"}, {of(2, 0, 0, "int")}, mx, {}, at2030, "verified", 1, 1},
      // A DANE-TA record of the leaf itself: OpenSSL matches DANE-TA(2) only
      // at depth 1 and above, even for a self-signed leaf (pinned: OpenSSL 3.0).
      {"ta-of-leaf", chain_ec, {of(2, 0, 1, "leaf-ec")},
       mx, {}, at2030, "mismatch", none, 1, "no matching DANE TLSA records"},
      {"ta-of-self-signed-leaf", {"leaf-self"}, {of(2, 0, 1, "leaf-self")},
       mx, {}, at2030, "mismatch", none, 1, "no matching DANE TLSA records"},

      // DANE-TA checks dates; DANE-EE does not.
      {"ta-expired-leaf", with_leaf("leaf-expired"), {of(2, 0, 1, "int")},
       mx, {}, at2030, "expired", none, 1, "certificate has expired"},
      {"ta-not-yet-valid-leaf", with_leaf("leaf-future"), {of(2, 0, 1, "int")},
       mx, {}, at2030, "expired", none, 1, "certificate is not yet valid"},
      // The trust anchor's own dates are not checked (RFC 5280 §6.1: a trust
      // anchor is not a certificate of the path): in 2020 the leaf is valid,
      // the intermediate it names not yet (pinned: OpenSSL 3.0).
      {"ta-trust-anchor-dates-unchecked", with_leaf("leaf-expired"), {of(2, 0, 1, "int")},
       mx, {}, at2020, "verified", 1, 1},
      // With the root as trust anchor the intermediate is in the path, so its
      // dates count.
      {"ta-root-intermediate-not-yet-valid", with_leaf("leaf-expired"), {of(2, 0, 1, "root")},
       mx, {}, at2020, "expired", none, 1, "certificate is not yet valid"},
      {"ta-expired-leaf-beside-ee", with_leaf("leaf-expired"), {of(2, 0, 1, "int"), of(3, 1, 1, "leaf-expired")},
       mx, {}, at2030, "verified", 0, 2},

      // DANE-TA reference identifiers (RFC 7672 §3.2.2): the TLSA base, the
      // next-hop domain; a wildcard covers one whole label.
      {"ta-name-mismatch", with_leaf("leaf-wrong-name"), {of(2, 0, 1, "int")},
       mx, {}, at2030, "name-mismatch", none, 1, "hostname mismatch"},
      {"ta-name-is-base", with_leaf("leaf-wrong-name"), {of(2, 0, 1, "int")},
       "mx.other.example", {}, at2030, "verified", 1, 1},
      {"ta-name-is-next-hop", with_leaf("leaf-next-hop"), {of(2, 0, 1, "int")},
       mx, {"example.com"}, at2030, "verified", 1, 1},
      {"ta-next-hop-not-given", with_leaf("leaf-next-hop"), {of(2, 0, 1, "int")},
       mx, {}, at2030, "name-mismatch", none, 1},
      {"ta-wildcard-one-label", with_leaf("leaf-wildcard"), {of(2, 0, 1, "int")}, mx, {}, at2030, "verified", 1, 1},
      {"ta-wildcard-two-labels", with_leaf("leaf-wildcard"), {of(2, 0, 1, "int")},
       "a.mx.example.com", {}, at2030, "name-mismatch", none, 1},
      {"ta-wildcard-not-the-parent", with_leaf("leaf-wildcard"), {of(2, 0, 1, "int")},
       "example.com", {}, at2030, "name-mismatch", none, 1},
      {"ta-wildcard-via-next-hop", with_leaf("leaf-wildcard"), {of(2, 0, 1, "int")},
       "mx.other.example", {"smtp.example.com"}, at2030, "verified", 1, 1},
      {"ta-deeper-wildcard", with_leaf("leaf-deep-wildcard"), {of(2, 0, 1, "int")},
       mx, {}, at2030, "name-mismatch", none, 1},
      {"ta-name-case", chain_ec, {of(2, 0, 1, "int")}, "MX.Example.COM", {}, at2030, "verified", 1, 1},
      // OpenSSL compares names as given: a trailing dot does not match
      // (pinned: callers must pass names without it).
      {"ta-name-trailing-dot", chain_ec, {of(2, 0, 1, "int")},
       "mx.example.com.", {}, at2030, "name-mismatch", none, 1, "hostname mismatch"},

      // Records a sender does not use (RFC 7672 §3.1.3; OpenSSL's SSL_dane_tlsa_add): none left.
      {"unusable-pkix-ta", chain_ec, {of(0, 0, 1, "root")}, mx, {}, at2030, "no-usable", none, 0},
      {"unusable-pkix-ee", chain_ec, {of(1, 1, 1, "leaf-ec")}, mx, {}, at2030, "no-usable", none, 0},
      {"unusable-usage-4", chain_ec, {lit(4, 1, 1, tlsa_association(pki()["leaf-ec"], 1, 1))},
       mx, {}, at2030, "no-usable", none, 0},
      {"unusable-selector-2", chain_ec, {lit(3, 2, 1, wrong32)}, mx, {}, at2030, "no-usable", none, 0},
      {"unusable-mtype-3", chain_ec, {lit(3, 1, 3, wrong32)}, mx, {}, at2030, "no-usable", none, 0},
      {"unusable-full-not-spki", chain_ec, {lit(3, 1, 0, {0xde, 0xad, 0xbe, 0xef})},
       mx, {}, at2030, "no-usable", none, 0},
      {"unusable-full-not-cert", chain_ec, {lit(2, 0, 0, {0x30, 0x03, 0x02, 0x01, 0x01})},
       mx, {}, at2030, "no-usable", none, 0},
      {"unusable-full-cert-trailing-byte", chain_ec, {lit(3, 0, 0, plus_byte(pki()["leaf-ec"].der))},
       mx, {}, at2030, "no-usable", none, 0},
      {"unusable-full-spki-holding-cert", chain_ec, {lit(3, 1, 0, pki()["leaf-ec"].der)},
       mx, {}, at2030, "no-usable", none, 0},
      {"unusable-sha256-31-bytes", chain_ec, {lit(3, 1, 1, bytes(31, 0x42))}, mx, {}, at2030, "no-usable", none, 0},
      {"unusable-sha512-32-bytes", chain_ec, {lit(3, 1, 2, wrong32)}, mx, {}, at2030, "no-usable", none, 0},
      {"unusable-empty-data", chain_ec, {lit(3, 1, 1, {})}, mx, {}, at2030, "no-usable", none, 0},
      {"unusable-all-kinds", chain_ec, {of(0, 0, 1, "root"), lit(4, 1, 1, wrong32), lit(3, 1, 1, bytes(20, 1))},
       mx, {}, at2030, "no-usable", none, 0},
      // A usable record beside unusable ones.
      {"mixed-usable-matches", chain_ec,
       {of(1, 1, 1, "leaf-ec"), lit(3, 1, 1, bytes(31, 0x42)), of(3, 1, 1, "leaf-ec")},
       mx, {}, at2030, "verified", 0, 1},
      {"mixed-only-pkix-would-match", chain_ec, {of(0, 0, 1, "root"), of(3, 1, 1, "leaf-rsa")},
       mx, {}, at2030, "mismatch", none, 1},
      {"mixed-pkix-beside-ta", chain_ec, {of(0, 0, 1, "root"), of(2, 0, 1, "root")}, mx, {}, at2030, "verified", 2, 1},

      // Digest agility (RFC 7671 §9): per usage and selector, OpenSSL uses only
      // the strongest digest present (SHA2-512 over SHA2-256).
      {"agility-sha512-wrong-hides-sha256", chain_ec, {of(3, 1, 1, "leaf-ec"), lit(3, 1, 2, wrong64)},
       mx, {}, at2030, "mismatch", none, 2},
      {"agility-sha512-right", chain_ec, {lit(3, 1, 1, wrong32), of(3, 1, 2, "leaf-ec")},
       mx, {}, at2030, "verified", 0, 2},
      // Full(0) data is compared even beside a (wrong) digest of the same
      // usage and selector (pinned: OpenSSL 3.0).
      {"agility-full-beside-wrong-sha256", chain_ec, {of(3, 1, 0, "leaf-ec"), lit(3, 1, 1, wrong32)},
       mx, {}, at2030, "verified", 0, 2},
      {"agility-other-selector", chain_ec, {of(3, 0, 1, "leaf-ec"), lit(3, 1, 2, wrong64)},
       mx, {}, at2030, "verified", 0, 2},
      {"agility-other-usage", chain_ec, {of(3, 1, 1, "leaf-ec"), lit(2, 1, 2, wrong64)},
       mx, {}, at2030, "verified", 0, 2},
      {"agility-ta", chain_ec, {of(2, 0, 1, "root"), lit(2, 0, 2, wrong64)}, mx, {}, at2030, "mismatch", none, 2},

      // Chain order: OpenSSL builds the path from what was sent; the first
      // certificate is the server's.
      {"order-root-before-int", {"leaf-ec", "root", "int"}, {of(2, 0, 1, "root")}, mx, {}, at2030, "verified", 2, 1},
      {"order-root-before-int-ta-int", {"leaf-ec", "root", "int"}, {of(2, 0, 1, "int")},
       mx, {}, at2030, "verified", 1, 1},
      {"order-duplicate-int", {"leaf-ec", "int", "int", "root"}, {of(2, 0, 1, "root")},
       mx, {}, at2030, "verified", 2, 1},
      {"order-unrelated-extra", {"leaf-ec", "other-root", "int", "root"}, {of(2, 0, 1, "root")},
       mx, {}, at2030, "verified", 2, 1},
      {"order-leaf-not-first-ee", {"int", "leaf-ec", "root"}, {of(3, 1, 1, "leaf-ec")},
       mx, {}, at2030, "mismatch", none, 1},
      {"order-leaf-not-first-ta", {"int", "leaf-ec", "root"}, {of(2, 0, 1, "root")},
       mx, {}, at2030, "mismatch", none, 1, "unsuitable certificate purpose"},

      // Depth: authenticate() verifies with the probes' verify depth, 10.
      {"long-chain-ee", long_chain(), {of(3, 1, 1, "long-leaf")}, mx, {}, at2030, "verified", 0, 1},
      {"long-chain-ta-depth-10", long_chain(), {of(2, 0, 1, "long-2")}, mx, {}, at2030, "verified", 10, 1},
      {"long-chain-ta-depth-11", long_chain(), {of(2, 0, 1, "long-1")}, mx, {}, at2030, "verified", 11, 1},
      {"long-chain-ta-depth-12", long_chain(), {of(2, 0, 1, "long-root")},
       mx, {}, at2030, "policy-rejected", none, 1, "certificate chain too long"},
  };
  // clang-format on
}

// --- The reference: the same records and names in a real handshake. ---

struct Free {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
template <typename T>
using Own = std::unique_ptr<T, Free>;

Own<X509> x509_of(const CertInfo& c) {
  const unsigned char* p = c.der.data();
  return Own<X509>(d2i_X509(nullptr, &p, static_cast<long>(c.der.size())));
}

Own<EVP_PKEY> key_of(const std::string& name) {
  BIO* bio = BIO_new_file((data_dir + "/keys/" + name + ".key").c_str(), "r");
  if (!bio) return nullptr;
  Own<EVP_PKEY> k(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return k;
}

struct Handshake {
  bool ok = false;
  std::string error;         // why there is no answer
  std::string verify_error;  // X509_verify_cert_error_string, "" for X509_V_OK
  int depth = -1;            // SSL_get0_dane_authority
};

// Client and server over a BIO pair; the client enables DANE the way a sender
// does and verifies nothing itself (SSL_VERIFY_NONE), so the handshake always
// completes and the verification result is read afterwards.
Handshake handshake(const Row& row, const std::vector<TlsaRecord>& records) {
  Handshake out;
  Own<SSL_CTX> sctx(SSL_CTX_new(TLS_server_method()));
  Own<SSL_CTX> cctx(SSL_CTX_new(TLS_client_method()));
  if (!sctx || !cctx) return out.error = "SSL_CTX_new", out;
  Own<X509> leaf = x509_of(pki()[row.chain[0]]);
  Own<EVP_PKEY> key = key_of(row.chain[0]);
  if (!leaf || !key || SSL_CTX_use_certificate(sctx.get(), leaf.get()) != 1 ||
      SSL_CTX_use_PrivateKey(sctx.get(), key.get()) != 1)
    return out.error = "server certificate or key", out;
  for (std::size_t i = 1; i < row.chain.size(); ++i) {
    Own<X509> c = x509_of(pki()[row.chain[i]]);
    if (!c || SSL_CTX_add1_chain_cert(sctx.get(), c.get()) != 1) return out.error = "chain certificate", out;
  }
  SSL_CTX_set_mode(sctx.get(), SSL_MODE_NO_AUTO_CHAIN);  // send the chain as given

  if (SSL_CTX_dane_enable(cctx.get()) <= 0) return out.error = "SSL_CTX_dane_enable", out;
  SSL_CTX_set_verify(cctx.get(), SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_verify_depth(cctx.get(), 10);
  Own<SSL> server(SSL_new(sctx.get()));
  Own<SSL> client(SSL_new(cctx.get()));
  if (!server || !client) return out.error = "SSL_new", out;
  if (SSL_dane_enable(client.get(), row.base.c_str()) <= 0) return out.error = "SSL_dane_enable", out;
  SSL_dane_set_flags(client.get(), DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  SSL_set_hostflags(client.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  for (const auto& n : row.extra_names) SSL_add1_host(client.get(), n.c_str());
  for (const auto& r : records)
    if (SSL_dane_tlsa_add(client.get(), r.usage, r.selector, r.mtype, r.data.data(), r.data.size()) <= 0)
      return out.error = "SSL_dane_tlsa_add refused a usable record", out;
  X509_VERIFY_PARAM_set_time(SSL_get0_param(client.get()), static_cast<time_t>(row.at));

  BIO *cbio = nullptr, *sbio = nullptr;
  if (BIO_new_bio_pair(&cbio, 0, &sbio, 0) != 1) return out.error = "BIO_new_bio_pair", out;
  SSL_set_bio(client.get(), cbio, cbio);
  SSL_set_bio(server.get(), sbio, sbio);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  bool cdone = false, sdone = false;
  for (int round = 0; round < 50 && !(cdone && sdone); ++round) {
    if (!cdone) {
      int r = SSL_do_handshake(client.get());
      if (r == 1)
        cdone = true;
      else if (SSL_get_error(client.get(), r) != SSL_ERROR_WANT_READ)
        break;
    }
    if (!sdone) {
      int r = SSL_do_handshake(server.get());
      if (r == 1)
        sdone = true;
      else if (SSL_get_error(server.get(), r) != SSL_ERROR_WANT_READ)
        break;
    }
  }
  if (!cdone) {
    out.error = "handshake did not complete";
    ERR_clear_error();
    return out;
  }
  long vr = SSL_get_verify_result(client.get());
  out.ok = true;
  out.verify_error = vr == X509_V_OK ? "" : X509_verify_cert_error_string(vr);
  out.depth = vr == X509_V_OK ? SSL_get0_dane_authority(client.get(), nullptr, nullptr) : -1;
  ERR_clear_error();
  return out;
}

std::vector<CertInfo> chain_of(const Row& row) {
  std::vector<CertInfo> out;
  for (const auto& n : row.chain) out.push_back(pki()[n]);
  return out;
}

TEST(DaneTable, ThePkiIsTheCheckedInOne) {
  const auto& p = pki();
  ASSERT_EQ(p.certs.size(), cert_names.size());
  EXPECT_EQ(p["root"].not_before, 1735689600);         // 2025-01-01T00:00:00Z
  EXPECT_EQ(p["root"].not_after, 2051222400);          // 2035-01-01T00:00:00Z
  EXPECT_EQ(p["leaf-expired"].not_after, 1609372800);  // 2020-12-31T00:00:00Z
  EXPECT_EQ(p["leaf-future"].not_before, 2208988800);  // 2040-01-01T00:00:00Z
  EXPECT_EQ(p["leaf-rsa"].key_type, "RSA 2048");
  EXPECT_EQ(p["leaf-ec"].key_type, "EC prime256v1");
  EXPECT_TRUE(p["int"].is_ca);
  EXPECT_FALSE(p["leaf-self"].is_ca);
  EXPECT_EQ(p["leaf-self"].subject, p["leaf-self"].issuer);
  EXPECT_EQ(p["leaf-wildcard"].dns_names, std::vector<std::string>{"*.example.com"});
  // The bytes are the checked-in ones (digests computed by `openssl dgst`),
  // so the literal rows below keep meaning what they say.
  EXPECT_EQ(to_hex(tlsa_association(p["leaf-ec"], 1, 1)), leaf_ec_spki_sha256);
  EXPECT_EQ(to_hex(tlsa_association(p["leaf-rsa"], 1, 1)), leaf_rsa_spki_sha256);
  EXPECT_EQ(to_hex(tlsa_association(p["root"], 0, 1)), root_cert_sha256);
  // Every certificate's private key is there, for the handshake reference.
  for (const auto& n : cert_names) EXPECT_TRUE(key_of(n)) << n;
}

TEST(DaneTable, RecordsChainsNamesAndTimes) {
  for (const auto& row : table()) {
    SCOPED_TRACE(row.name);
    auto usable = records_for_openssl(row.records);
    EXPECT_EQ(usable.size(), row.usable);
    auto a = authenticate(chain_of(row), usable, row.base, row.extra_names, row.at);
    if (row.want == "no-usable") {
      EXPECT_TRUE(usable.empty());
      EXPECT_EQ(a.accepted, 0);
      EXPECT_EQ(to_string(a.outcome), "tls-failed") << a.detail;
    } else {
      EXPECT_EQ(a.accepted, static_cast<int>(usable.size()));
      EXPECT_EQ(to_string(a.outcome), row.want) << a.detail;
    }
    EXPECT_EQ(a.depth, row.depth) << a.detail;
    EXPECT_EQ(a.matched.has_value(), row.depth >= 0);
    if (!row.verify_error.empty()) EXPECT_EQ(a.verify_error, row.verify_error);
    if (row.want == "verified") EXPECT_EQ(a.verify_error, "");
  }
}

// The handshake reference: where there are usable records, authenticate()
// reaches OpenSSL's in-handshake verdict, error for error and depth for depth.
TEST(DaneTable, OfflineVerificationEqualsTheHandshake) {
  int compared = 0;
  for (const auto& row : table()) {
    SCOPED_TRACE(row.name);
    auto usable = records_for_openssl(row.records);
    if (usable.empty()) continue;
    auto h = handshake(row, usable);
    ASSERT_TRUE(h.ok) << h.error;
    auto a = authenticate(chain_of(row), usable, row.base, row.extra_names, row.at);
    EXPECT_EQ(a.verify_error, h.verify_error);
    EXPECT_EQ(a.depth, h.depth);
    ++compared;
  }
  EXPECT_GE(compared, 60);
}

// The record a row matched is the one of the row's records OpenSSL names.
TEST(DaneTable, TheMatchedRecordIsOneOfTheRows) {
  for (const auto& row : table()) {
    if (row.depth < 0) continue;
    SCOPED_TRACE(row.name);
    auto a = authenticate(chain_of(row), records_for_openssl(row.records), row.base, row.extra_names, row.at);
    ASSERT_TRUE(a.matched);
    EXPECT_NE(std::find(row.records.begin(), row.records.end(), *a.matched), row.records.end())
        << to_presentation(*a.matched);
  }
}

}  // namespace
}  // namespace danekit
