// TLSA generation checked against independent computations with the openssl
// CLI: every selector x matching type, for private keys, public keys, CSRs,
// certificates and chains (EC P-256 and RSA 2048, PEM and DER), bad input, the
// output formats, and `danekit tlsa generate/verify --server` against a
// scripted STARTTLS server.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "danekit/keys.h"
#include "danekit/tlsa_generate.h"
#include "danekit/version.h"
#include "scripted_server.h"
#include "test_pki.h"
#include "util/hex.h"

namespace danekit {
namespace {

namespace fs = std::filesystem;

struct Run {
  int status = -1;
  std::string out;
};

// Runs a shell command, returns its exit status and stdout.
Run sh(const std::string& command) {
  Run r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Test material made once with the openssl CLI in a temp dir.
class Pki {
 public:
  fs::path dir;

  Pki() {
    char tmpl[] = "/tmp/danekit-tlsa-XXXXXX";
    dir = mkdtemp(tmpl);
    for (const char* alg : {"ec", "rsa"}) make(alg);
    // Garbage, empty and damaged inputs.
    write("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n");
    write("garbage.der", std::string("\x30\x82\x01\x00\x01\x02\x03", 7));
    write("empty.pem", "");
  }
  ~Pki() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  std::string path(const std::string& name) const { return (dir / name).string(); }

  void write(const std::string& name, const std::string& data) const {
    std::ofstream(path(name), std::ios::binary) << data;
  }

  // The hex an openssl pipeline produces for selector input on stdin.
  std::string digest(const std::string& producer, std::uint8_t mtype) const {
    std::string tail = mtype == 0   ? "od -An -v -tx1 | tr -d ' \\n'"
                       : mtype == 1 ? "openssl dgst -sha256 -r | cut -d' ' -f1"
                                    : "openssl dgst -sha512 -r | cut -d' ' -f1";
    auto r = sh("cd " + dir.string() + " && " + producer + " | " + tail);
    EXPECT_EQ(r.status, 0) << producer;
    return trim(r.out);
  }

 private:
  void run(const std::string& cmd) const {
    auto r = sh("cd " + dir.string() + " && (" + cmd + ") 2>/dev/null");
    ASSERT_EQ(r.status, 0) << cmd;
  }
  void make(const std::string& alg) {
    std::string newkey = alg == "ec" ? "-newkey ec -pkeyopt ec_paramgen_curve:P-256" : "-newkey rsa:2048";
    std::string p = alg + "-";
    run("openssl req -x509 " + newkey + " -nodes -keyout " + p + "ca.key -out " + p +
        "ca.pem -days 3650 -subj '/CN=Test CA " + alg + "'");
    run("openssl req " + newkey + " -nodes -keyout " + p + "leaf.key -out " + p +
        "leaf.csr -subj '/CN=mx.example.org'");
    run("openssl x509 -req -in " + p + "leaf.csr -CA " + p + "ca.pem -CAkey " + p + "ca.key -set_serial 7 -out " + p +
        "leaf.pem -days 3650");
    run("cat " + p + "leaf.pem " + p + "ca.pem > " + p + "chain.pem");
    run("openssl x509 -in " + p + "leaf.pem -outform DER -out " + p + "leaf.der");
    run("openssl pkey -in " + p + "leaf.key -outform DER -out " + p + "leaf.key.der");
    run("openssl pkey -in " + p + "leaf.key -pubout -out " + p + "leaf.pub");
    run("openssl pkey -in " + p + "leaf.key -pubout -outform DER -out " + p + "leaf.pub.der");
    run("openssl req -in " + p + "leaf.csr -outform DER -out " + p + "leaf.csr.der");
    run("openssl pkey -in " + p + "leaf.key -traditional -out " + p + "leaf.trad.key");
    // Encrypted keys: PKCS#8 PEM and DER, and the traditional Proc-Type form.
    run("openssl pkey -in " + p + "leaf.key -aes256 -passout pass:secret -out " + p + "enc.key");
    run("openssl pkcs8 -topk8 -in " + p + "leaf.key -v2 aes256 -passout pass:secret -outform DER -out " + p +
        "enc.key.der");
    run("openssl pkey -in " + p + "leaf.key -traditional -aes256 -passout pass:secret -out " + p + "enc.trad.key");
    // A CSR whose signature no longer verifies: flip the last byte of the DER.
    run("cp " + p + "leaf.csr.der " + p + "badsig.csr.der && size=$(stat -c %s " + p +
        "badsig.csr.der) && last=$(tail -c1 " + p +
        "badsig.csr.der | od -An -tu1 | tr -d ' ') && printf \"$(printf '\\\\%03o' $(( (last + 1) % 256 )))\" | dd "
        "of=" +
        p + "badsig.csr.der bs=1 seek=$((size - 1)) conv=notrunc status=none");
    run("openssl req -in " + p + "badsig.csr.der -inform DER -out " + p + "badsig.csr");
  }
};

Pki& pki() {
  static Pki p;
  return p;
}

KeySource from_certs(const std::string& file) {
  auto chain = load_certificates(pki().path(file));
  EXPECT_TRUE(chain) << (chain ? "" : chain.error());
  if (!chain) return {};
  return KeySource{file, *chain, chain->front().spki_der};
}

KeySource from_spki(const std::string& file, tl::expected<Bytes, std::string> spki) {
  EXPECT_TRUE(spki) << (spki ? "" : spki.error());
  if (!spki) return {};
  return KeySource{file, {}, *spki};
}

std::string generated(const KeySource& s, GenerateParams p) {
  auto g = generate_tlsa(s, p);
  EXPECT_TRUE(g) << (g ? "" : g.error());
  return g ? to_hex(g->record.data) : "";
}

TEST(TlsaGenerate, KeyInputsMatchOpensslForEveryMatchingType) {
  for (std::string alg : {"ec-", "rsa-"}) {
    // The reference: the SPKI as the openssl CLI derives it from the private key.
    std::string ref = "openssl pkey -in " + alg + "leaf.key -pubout -outform DER";
    std::vector<std::pair<std::string, KeySource>> sources{
        {"key pem", from_spki("k", load_private_key(pki().path(alg + "leaf.key")))},
        {"key der", from_spki("k", load_private_key(pki().path(alg + "leaf.key.der")))},
        {"key traditional", from_spki("k", load_private_key(pki().path(alg + "leaf.trad.key")))},
        {"pubkey pem", from_spki("p", load_public_key(pki().path(alg + "leaf.pub")))},
        {"pubkey der", from_spki("p", load_public_key(pki().path(alg + "leaf.pub.der")))},
        {"csr pem", from_spki("c", load_csr(pki().path(alg + "leaf.csr")))},
        {"csr der", from_spki("c", load_csr(pki().path(alg + "leaf.csr.der")))},
    };
    std::string csr_ref = "openssl req -in " + alg + "leaf.csr -pubkey -noout | openssl pkey -pubin -outform DER";
    for (std::uint8_t m = 0; m <= 2; ++m) {
      auto want = pki().digest(ref, m);
      ASSERT_FALSE(want.empty());
      EXPECT_EQ(want, pki().digest(csr_ref, m));  // the CSR is for the same key
      for (const auto& [what, src] : sources) {
        SCOPED_TRACE(alg + what + " mtype " + std::to_string(m));
        EXPECT_EQ(generated(src, {3, 1, m, 0}), want);
      }
    }
  }
}

TEST(TlsaGenerate, CertificateAndChainMatchOpensslForEverySelectorAndType) {
  for (std::string alg : {"ec-", "rsa-"}) {
    for (std::string file : {"leaf.pem", "leaf.der", "chain.pem"}) {
      auto src = from_certs(alg + file);
      ASSERT_EQ(src.chain.size(), file == "chain.pem" ? 2u : 1u);
      for (std::uint8_t m = 0; m <= 2; ++m) {
        SCOPED_TRACE(alg + file + " mtype " + std::to_string(m));
        auto cert0 = pki().digest("openssl x509 -in " + alg + "leaf.pem -outform DER", m);
        auto spki0 =
            pki().digest("openssl x509 -in " + alg + "leaf.pem -pubkey -noout | openssl pkey -pubin -outform DER", m);
        EXPECT_EQ(generated(src, {3, 0, m, 0}), cert0);
        EXPECT_EQ(generated(src, {3, 1, m, 0}), spki0);
        if (file != "chain.pem") continue;
        auto cert1 = pki().digest("openssl x509 -in " + alg + "ca.pem -outform DER", m);
        auto spki1 =
            pki().digest("openssl x509 -in " + alg + "ca.pem -pubkey -noout | openssl pkey -pubin -outform DER", m);
        EXPECT_EQ(generated(src, {2, 0, m, 1}), cert1);
        EXPECT_EQ(generated(src, {2, 1, m, 1}), spki1);
        EXPECT_NE(cert1, cert0);
      }
    }
  }
}

TEST(TlsaGenerate, KeyAndItsCertificateAgree) {
  auto cert = from_certs("ec-leaf.pem");
  auto key = load_private_key(pki().path("ec-leaf.key"));
  ASSERT_TRUE(key);
  EXPECT_TRUE(same_public_key(*key, cert.spki));
  auto other = load_private_key(pki().path("ec-ca.key"));
  ASSERT_TRUE(other);
  EXPECT_FALSE(same_public_key(*other, cert.spki));
  EXPECT_EQ(describe_public_key(cert.spki), "EC prime256v1");
  EXPECT_EQ(describe_public_key(from_certs("rsa-leaf.pem").spki), "RSA 2048");
}

TEST(TlsaGenerate, BadInputIsOneClearLine) {
  struct Case {
    std::string file;
    std::function<tl::expected<Bytes, std::string>(const std::string&)> load;
    std::string error;
  };
  auto certs = [](const std::string& p) -> tl::expected<Bytes, std::string> {
    auto c = load_certificates(p);
    if (!c) return tl::unexpected(c.error());
    return c->front().der;
  };
  std::vector<Case> cases{
      {"ec-enc.key", load_private_key, "the key is encrypted"},
      {"rsa-enc.key", load_private_key, "the key is encrypted"},
      {"ec-enc.key.der", load_private_key, "the key is encrypted"},
      {"ec-enc.trad.key", load_private_key, "the key is encrypted"},
      {"rsa-enc.trad.key", load_private_key, "the key is encrypted"},
      {"ec-badsig.csr", load_csr, "the CSR's self-signature does not verify"},
      {"rsa-badsig.csr", load_csr, "the CSR's self-signature does not verify"},
      {"ec-badsig.csr.der", load_csr, "the CSR's self-signature does not verify"},
      {"garbage.pem", certs, "damaged PEM block"},
      {"garbage.der", certs, "neither a PEM nor a DER certificate"},
      {"empty.pem", certs, "the file is empty"},
      {"ec-leaf.key", certs, "no CERTIFICATE block in the file (found PRIVATE KEY)"},
      {"ec-leaf.pem", load_private_key, "no PRIVATE KEY block in the file (found CERTIFICATE)"},
      {"ec-leaf.pem", load_public_key, "no PUBLIC KEY block in the file (found CERTIFICATE)"},
      {"ec-leaf.der", load_csr, "neither a PEM nor a DER certificate request"},
      {"garbage.der", load_public_key, "neither a PEM nor a DER public key"},
      {"no-such-file", load_private_key, "No such file or directory"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto r = c.load(pki().path(c.file));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().rfind(pki().path(c.file) + ": ", 0), 0u) << r.error();
    EXPECT_NE(r.error().find(c.error), std::string::npos) << r.error();
    EXPECT_EQ(r.error().find('\n'), std::string::npos);
  }
}

TEST(TlsaGenerate, RefusesWhatCannotWork) {
  auto key = from_spki("--key k.pem", load_private_key(pki().path("ec-leaf.key")));
  auto leaf = from_certs("ec-leaf.pem");
  auto chain = from_certs("ec-chain.pem");
  auto err = [](const KeySource& s, GenerateParams p) {
    auto g = generate_tlsa(s, p);
    return g ? std::string("ok") : g.error();
  };
  EXPECT_NE(err(key, {3, 0, 1, 0}).find("selector 0 (Cert) needs a certificate"), std::string::npos);
  EXPECT_NE(err(key, {2, 1, 1, 1}).find("needs a certificate chain"), std::string::npos);
  EXPECT_NE(err(leaf, {2, 1, 1, 1}).find("needs a chain of at least 2 certificates, ec-leaf.pem has 1"),
            std::string::npos);
  EXPECT_NE(err(chain, {3, 1, 1, 1}).find("use usage 2"), std::string::npos);
  EXPECT_NE(err(chain, {2, 1, 1, 0}).find("--depth 1"), std::string::npos);
  EXPECT_NE(err(chain, {4, 1, 1, 0}).find("usage 4 is not defined"), std::string::npos);
  EXPECT_NE(err(chain, {3, 2, 1, 0}).find("selector 2"), std::string::npos);
  EXPECT_NE(err(chain, {3, 1, 3, 0}).find("matching type 3"), std::string::npos);
  EXPECT_EQ(err(chain, {2, 1, 1, 1}), "ok");
}

TEST(TlsaGenerate, WarnsAboutFragileForms) {
  auto chain = from_certs("ec-chain.pem");
  auto count = [&](GenerateParams p) { return generate_tlsa(chain, p)->warnings.size(); };
  EXPECT_EQ(count({3, 1, 1, 0}), 0u);
  EXPECT_EQ(count({2, 0, 1, 1}), 0u);  // Cert(0) for an issuer is fine
  EXPECT_EQ(count({3, 0, 1, 0}), 1u);
  EXPECT_NE(generate_tlsa(chain, {3, 0, 1, 0})->warnings[0].find("renewal"), std::string::npos);
  EXPECT_EQ(count({1, 1, 1, 0}), 1u);
  EXPECT_EQ(count({0, 1, 1, 1}), 1u);
  EXPECT_NE(generate_tlsa(chain, {1, 1, 1, 0})->warnings[0].find("RFC 7672 §3.1.3"), std::string::npos);
  EXPECT_EQ(count({1, 0, 0, 0}), 3u);
}

TEST(TlsaGenerate, ParametersByNumberOrName) {
  EXPECT_EQ(*parse_usage("dane-ee"), 3);
  EXPECT_EQ(*parse_usage("DANE-TA"), 2);
  EXPECT_EQ(*parse_usage("pkix-ta"), 0);
  EXPECT_EQ(*parse_usage("1"), 1);
  EXPECT_EQ(*parse_selector("spki"), 1);
  EXPECT_EQ(*parse_selector("CERT"), 0);
  EXPECT_EQ(*parse_mtype("sha2-512"), 2);
  EXPECT_EQ(*parse_mtype("full"), 0);
  EXPECT_FALSE(parse_usage("DANE-XX"));
  EXPECT_FALSE(parse_usage("4"));
  EXPECT_FALSE(parse_usage(""));
  EXPECT_FALSE(parse_selector("-1"));
  EXPECT_FALSE(parse_mtype("SHA1"));
  EXPECT_EQ(parse_usage("DANE-XX").error(),
            "unknown usage 'DANE-XX': expected 0-3 or PKIX-TA, PKIX-EE, DANE-TA, DANE-EE");
}

TEST(TlsaGenerate, Formats) {
  TlsaRecord r{3, 1, 1, std::vector<std::uint8_t>(32, 0xab)};
  std::string hex(64, 'a');
  for (std::size_t i = 1; i < hex.size(); i += 2) hex[i] = 'b';
  auto owner = tlsa_owner("MX.Example.ORG.", 25);
  ASSERT_TRUE(owner);
  EXPECT_EQ(*owner, "_25._tcp.mx.example.org.");
  EXPECT_EQ(format_record(r, *owner, 3600, RecordFormat::zone), "_25._tcp.mx.example.org. 3600 IN TLSA 3 1 1 " + hex);
  EXPECT_EQ(format_record(r, *owner, std::nullopt, RecordFormat::zone),
            "_25._tcp.mx.example.org. IN TLSA 3 1 1 " + hex);
  EXPECT_EQ(format_record(r, *owner, 3600, RecordFormat::generic),
            "_25._tcp.mx.example.org. 3600 IN TYPE52 \\# 35 030101" + hex);
  EXPECT_EQ(format_record(r, "", 3600, RecordFormat::zone), "3 1 1 " + hex);
  EXPECT_EQ(format_record(r, "", std::nullopt, RecordFormat::generic), "\\# 35 030101" + hex);
  // JSON: the shared TLSA record shape, the owner without its trailing dot,
  // the zone line with it; without a host every place of the record is null.
  Generated g{r, {"w"}};
  std::string want = std::string(R"j({"schema":"danekit.tlsa-generate/1","danekit":")j") + std::string(kVersion) +
                     R"j(","source":"--key k.pem","tlsa_base":"mx.example.org","port":25,)j"
                     R"j("owner":"_25._tcp.mx.example.org","ttl":300,"record":{"usage":3,"selector":1,"mtype":1,)j"
                     R"j("data":")j" +
                     hex + R"j(","text":"3 1 1 )j" + hex +
                     R"j(","parameters":"DANE-EE(3) SPKI(1) SHA2-256(1)","usage_name":"DANE-EE",)j"
                     R"j("selector_name":"SPKI","mtype_name":"SHA2-256"},)j"
                     R"j("zone":"_25._tcp.mx.example.org. 300 IN TLSA 3 1 1 )j" +
                     hex + R"j(","warnings":["w"]})j";
  EXPECT_EQ(generate_to_json({"--key k.pem", "mx.example.org", 25, 300, g}), want);
  auto bare = generate_to_json({"--key k.pem", "", 25, std::nullopt, g});
  EXPECT_NE(bare.find(R"j("tlsa_base":null,"port":null,"owner":null,"ttl":null,)j"), std::string::npos) << bare;
  EXPECT_NE(bare.find(R"j("zone":null,)j"), std::string::npos) << bare;
  EXPECT_EQ(*tlsa_owner("mx.example.org", 465), "_465._tcp.mx.example.org.");
  EXPECT_FALSE(tlsa_owner("bad..name", 25));
  // The generic form parses back to the same record.
  EXPECT_EQ(*parse_tlsa_input(format_record(r, "", std::nullopt, RecordFormat::generic)), r);
}

TEST(TlsaVerifyInput, RecordTextAcceptsOddWhitespaceRejectsBadHex) {
  std::string hex(64, 'a');
  TlsaRecord want{3, 1, 1, *from_hex(hex)};
  EXPECT_EQ(*parse_tlsa_input("3 1 1 " + hex), want);
  EXPECT_EQ(*parse_tlsa_input("  3\t1  1 " + hex.substr(0, 20) + "\n  " + hex.substr(20) + "\r\n"), want);
  EXPECT_EQ(*parse_tlsa_input("DANE-EE SPKI SHA2-256 ( " + hex.substr(0, 32) + "\xc2\xa0" + hex.substr(32) + " )"),
            want);
  EXPECT_EQ(*parse_tlsa_input("3 1 1 " + hex.substr(0, 10) + "\xe2\x80\x8b" + hex.substr(10)), want);
  EXPECT_EQ(parse_tlsa_input("3 1 1 " + hex.substr(1)).error(), "TLSA data has an odd number of hex digits (63)");
  EXPECT_EQ(parse_tlsa_input("3 1 1 " + hex.substr(2) + "zz").error(),
            "TLSA data has 'z' at hex digit 63, which is not a hex digit");
  EXPECT_EQ(parse_tlsa_input("3 1 1 " + hex.substr(2)).error(), "SHA2-256 data is 31 bytes long, it must be 32");
  EXPECT_EQ(parse_tlsa_input("3 1 2 " + hex).error(), "SHA2-512 data is 32 bytes long, it must be 64");
  EXPECT_NE(parse_tlsa_input("DANE-XX 1 1 " + hex).error().find("invalid TLSA usage 'DANE-XX'"), std::string::npos);
  EXPECT_FALSE(parse_tlsa_input("3 1 1"));
  EXPECT_FALSE(parse_tlsa_input(""));
  EXPECT_EQ(parse_tlsa_input("\\# 35 030101" + hex.substr(2)).error(), "generic RDATA says 35 bytes but has 34");
}

TEST(TlsaVerifyInput, RecordsFile) {
  std::string a(64, 'a'), b(128, 'b');
  std::string text =
      "; published 2024\n"
      "$TTL 3600\n"
      "_25._tcp.mx.example.org. 3600 IN TLSA 3 1 1 " +
      a +
      "  ; current key\n"
      "# next key\n"
      "_25._tcp.mx.example.org. IN TLSA ( 3 1 2\n  " +
      b.substr(0, 64) + "\n  " + b.substr(64) +
      " )\n"
      "\n"
      "2 0 1 " +
      a +
      " # bare\n"
      "_25._tcp.mx.example.org. TYPE52 \\# 35 030101" +
      a + "\n";
  auto r = parse_tlsa_file(text);
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[1].mtype, 2);
  EXPECT_EQ((*r)[1].data.size(), 64u);
  EXPECT_EQ((*r)[2].usage, 2);
  EXPECT_EQ((*r)[3], (*r)[0]);
  EXPECT_EQ(parse_tlsa_file("3 1 1 " + a + "\n3 1 1 " + a.substr(1) + "\n").error(),
            "line 2: TLSA data has an odd number of hex digits (63)");
  EXPECT_EQ(parse_tlsa_file("mx.example.org. IN MX 10 mx\n").error(), "line 1: not a TLSA record: 'mx.example.org.'");
  EXPECT_EQ(parse_tlsa_file("x IN TLSA ( 3 1 1\n" + a + "\n").error(), "line 1: '(' is never closed");
  EXPECT_TRUE(parse_tlsa_file("; nothing\n\n")->empty());
}

// ---- live server -----------------------------------------------------------

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A one-connection STARTTLS server on 127.0.0.1 serving `leaf` + `inter`.
class StarttlsServer {
 public:
  StarttlsServer(const testing::Issued& leaf, const testing::Issued& inter) {
    tls_.use(leaf, {inter});
    server_ = std::make_unique<testing::ScriptedServer>([this](tcp::socket& s) { testing::serve_tls(s, tls_.ctx); });
  }
  std::uint16_t port() const { return server_->port(); }

 private:
  testing::ServerTls tls_;
  std::unique_ptr<testing::ScriptedServer> server_;
};

struct ServedPki {
  testing::Issued root = testing::issue("Live Root", nullptr, true);
  testing::Issued inter = testing::issue("Live Int", &root, true);
  testing::Issued leaf = testing::issue("mx.test", &inter, false, {"mx.test"});
};

std::string cli() { return DANEKIT_CLI_PATH; }

TEST(TlsaGenerateServer, RecordEqualsTheServedCertificate) {
  ServedPki p;
  auto leaf = testing::info_of(p.leaf.cert);
  auto inter = testing::info_of(p.inter.cert);
  struct Case {
    std::string flags;
    TlsaRecord want;
  };
  std::vector<Case> cases{
      {"", {3, 1, 1, tlsa_association(leaf, 1, 1)}},
      {"--selector Cert --mtype SHA2-512", {3, 0, 2, tlsa_association(leaf, 0, 2)}},
      {"--ta", {2, 1, 1, tlsa_association(inter, 1, 1)}},
      {"--usage 2 --depth 1 --selector 0 --mtype 0", {2, 0, 0, inter.der}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.flags);
    StarttlsServer server(p.leaf, p.inter);
    auto r = sh(cli() + " tlsa generate --timeout 5 --server 127.0.0.1:" + std::to_string(server.port()) + " " +
                c.flags + " 2>/dev/null");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(trim(r.out), to_presentation(c.want));
  }
  // With --host the owner name follows, with --port 25 rather than the test port.
  StarttlsServer server(p.leaf, p.inter);
  auto r = sh(cli() + " tlsa generate --timeout 5 --server 127.0.0.1:" + std::to_string(server.port()) +
              " --host mx.test --port 25 --ttl 300");
  EXPECT_EQ(trim(r.out), "_25._tcp.mx.test. 300 IN TLSA " + to_presentation({3, 1, 1, tlsa_association(leaf, 1, 1)}));
}

TEST(TlsaGenerateServer, NothingListeningIsExit3) {
  std::uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  auto r = sh(cli() + " tlsa generate --timeout 2 --server 127.0.0.1:" + std::to_string(port) + " 2>&1");
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_EQ(r.out.rfind("danekit: --server 127.0.0.1:" + std::to_string(port) + ": 127.0.0.1: unreachable", 0), 0u)
      << r.out;
}

TEST(TlsaVerifyServer, OpensslDaneDecidesTheRrset) {
  ServedPki p;
  auto leaf = testing::info_of(p.leaf.cert);
  auto inter = testing::info_of(p.inter.cert);
  auto good = to_presentation({3, 1, 1, tlsa_association(leaf, 1, 1)});
  auto issuer_as_ee = to_presentation({3, 1, 1, tlsa_association(inter, 1, 1)});
  {
    StarttlsServer server(p.leaf, p.inter);
    auto r = sh(cli() + " tlsa verify --timeout 5 --json --server 127.0.0.1:" + std::to_string(server.port()) +
                " --record '" + good + "'");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find(R"("outcome":"verified")"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(R"("rrset":{"verdict":"authenticates")"), std::string::npos) << r.out;
  }
  {
    StarttlsServer server(p.leaf, p.inter);
    auto r = sh(cli() + " tlsa verify --timeout 5 --server 127.0.0.1:" + std::to_string(server.port()) + " --record '" +
                issuer_as_ee + "'");
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("server 127.0.0.1: mismatch"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("did you mean 2 1 1?"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("RRset: fails: 127.0.0.1: mismatch"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace danekit
