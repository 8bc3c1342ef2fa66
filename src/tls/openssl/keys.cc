// Certificates, keys, public keys and CSRs from PEM or DER, through OpenSSL
// (danekit/keys.h). PEM is split into blocks here and each block's DER is decoded
// by type, so a file's label decides what it is, and an encrypted key is caught
// by its label or its DER shape before anything could ask for a password.
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>

#include "danekit/keys.h"

namespace danekit {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ReqFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
struct SigFree {
  void operator()(X509_SIG* s) const { X509_SIG_free(s); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Leaves no OpenSSL error behind for the next caller on this thread.
struct ClearErrors {
  ~ClearErrors() { ERR_clear_error(); }
};

struct PemBlock {
  std::string label;
  bool legacy_encrypted = false;  // "Proc-Type: 4,ENCRYPTED" header
  Bytes der;
};

bool looks_like_pem(const Bytes& input) {
  static constexpr std::string_view begin = "-----BEGIN ";
  return std::search(input.begin(), input.end(), begin.begin(), begin.end()) != input.end();
}

// Every PEM block in the input; an error when a block is damaged.
tl::expected<std::vector<PemBlock>, std::string> pem_blocks(const Bytes& input) {
  ClearErrors clear;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(input.data(), static_cast<int>(input.size())));
  if (!bio) return tl::unexpected(std::string("out of memory"));
  std::vector<PemBlock> blocks;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) break;
    PemBlock b;
    b.label = name;
    b.legacy_encrypted = std::string_view(header).find("ENCRYPTED") != std::string_view::npos;
    b.der.assign(data, data + len);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    blocks.push_back(std::move(b));
  }
  unsigned long err = ERR_peek_last_error();
  if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) != PEM_R_NO_START_LINE)
    return tl::unexpected(fmt::format("damaged PEM block ({})", ERR_reason_error_string(err)));
  if (blocks.empty()) return tl::unexpected(std::string("no PEM block in the file"));
  return blocks;
}

std::string labels_of(const std::vector<PemBlock>& blocks) {
  std::string out;
  for (const auto& b : blocks) out += (out.empty() ? "" : ", ") + b.label;
  return out;
}

tl::expected<Bytes, std::string> spki_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return tl::unexpected(std::string("the public key cannot be encoded"));
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Pkey private_key_from_der(const Bytes& der, int legacy_type) {
  const unsigned char* p = der.data();
  long len = static_cast<long>(der.size());
  if (legacy_type != EVP_PKEY_NONE) return Pkey(d2i_PrivateKey(legacy_type, nullptr, &p, len));
  return Pkey(d2i_AutoPrivateKey(nullptr, &p, len));
}

bool is_encrypted_pkcs8_der(const Bytes& der) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509_SIG, SigFree> sig(d2i_X509_SIG(nullptr, &p, static_cast<long>(der.size())));
  return sig && p == der.data() + der.size();
}

Pkey public_key_from_der(const Bytes& der, bool pkcs1_rsa) {
  const unsigned char* p = der.data();
  long len = static_cast<long>(der.size());
  Pkey key(pkcs1_rsa ? d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len) : d2i_PUBKEY(nullptr, &p, len));
  if (key && p != der.data() + der.size()) return nullptr;  // trailing bytes: not one SPKI
  return key;
}

tl::expected<Bytes, std::string> csr_from_der(const Bytes& der) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509_REQ, ReqFree> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) return tl::unexpected(std::string("not a PKCS#10 certificate request"));
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (!key) return tl::unexpected(std::string("the CSR's public key cannot be read"));
  // A CSR proves possession of the key by signing itself (RFC 2986 §3); a
  // request that fails this was altered or was never made with this key.
  if (X509_REQ_verify(req.get(), key) != 1)
    return tl::unexpected(std::string("the CSR's self-signature does not verify"));
  return spki_of(key);
}

tl::expected<std::vector<CertInfo>, std::string> certificates_from_der(const Bytes& der) {
  std::vector<CertInfo> chain;
  std::size_t offset = 0;
  while (offset < der.size()) {
    const unsigned char* start = der.data() + offset;
    const unsigned char* p = start;
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size() - offset));
    if (!x) {
      if (chain.empty()) return tl::unexpected(std::string("neither a PEM nor a DER certificate"));
      return tl::unexpected(fmt::format("bytes after certificate {} are not a DER certificate", chain.size()));
    }
    X509_free(x);
    auto used = static_cast<std::size_t>(p - start);
    auto info = parse_certificate_der(Bytes(start, p));
    if (!info) return tl::unexpected(info.error());
    chain.push_back(std::move(*info));
    offset += used;
  }
  return chain;
}

template <class T>
tl::expected<T, std::string> with_path(const std::string& path, tl::expected<T, std::string> (*parse)(const Bytes&)) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return tl::unexpected(bytes.error());
  auto out = parse(*bytes);
  if (!out) return tl::unexpected(fmt::format("{}: {}", path, out.error()));
  return out;
}

}  // namespace

tl::expected<std::vector<CertInfo>, std::string> parse_certificates(const Bytes& input) {
  ClearErrors clear;
  if (input.empty()) return tl::unexpected(std::string("the file is empty"));
  if (!looks_like_pem(input)) return certificates_from_der(input);
  auto blocks = pem_blocks(input);
  if (!blocks) return tl::unexpected(blocks.error());
  std::vector<CertInfo> chain;
  for (const auto& b : *blocks) {
    if (b.label != "CERTIFICATE" && b.label != "X509 CERTIFICATE" && b.label != "TRUSTED CERTIFICATE") continue;
    auto info = parse_certificate_der(b.der);
    if (!info) {
      // TRUSTED CERTIFICATE carries trust settings after the certificate.
      const unsigned char* p = b.der.data();
      X509* x = d2i_X509(nullptr, &p, static_cast<long>(b.der.size()));
      if (x) {
        X509_free(x);
        info = parse_certificate_der(Bytes(b.der.data(), p));
      }
    }
    if (!info) return tl::unexpected(fmt::format("PEM certificate {} does not parse", chain.size() + 1));
    chain.push_back(std::move(*info));
  }
  if (chain.empty())
    return tl::unexpected(fmt::format("no CERTIFICATE block in the file (found {})", labels_of(*blocks)));
  return chain;
}

tl::expected<Bytes, std::string> parse_private_key(const Bytes& input) {
  ClearErrors clear;
  if (input.empty()) return tl::unexpected(std::string("the file is empty"));
  if (!looks_like_pem(input)) {
    if (is_encrypted_pkcs8_der(input)) return tl::unexpected(std::string("the key is encrypted"));
    Pkey key = private_key_from_der(input, EVP_PKEY_NONE);
    if (!key) return tl::unexpected(std::string("neither a PEM nor a DER private key"));
    return spki_of(key.get());
  }
  auto blocks = pem_blocks(input);
  if (!blocks) return tl::unexpected(blocks.error());
  for (const auto& b : *blocks) {
    int legacy = EVP_PKEY_NONE;
    if (b.label == "ENCRYPTED PRIVATE KEY") return tl::unexpected(std::string("the key is encrypted"));
    if (b.label == "RSA PRIVATE KEY")
      legacy = EVP_PKEY_RSA;
    else if (b.label == "EC PRIVATE KEY")
      legacy = EVP_PKEY_EC;
    else if (b.label != "PRIVATE KEY")
      continue;
    if (b.legacy_encrypted) return tl::unexpected(std::string("the key is encrypted"));
    Pkey key = private_key_from_der(b.der, legacy);
    if (!key) return tl::unexpected(fmt::format("the {} block does not parse", b.label));
    return spki_of(key.get());
  }
  return tl::unexpected(fmt::format("no PRIVATE KEY block in the file (found {})", labels_of(*blocks)));
}

tl::expected<Bytes, std::string> parse_public_key(const Bytes& input) {
  ClearErrors clear;
  if (input.empty()) return tl::unexpected(std::string("the file is empty"));
  if (!looks_like_pem(input)) {
    Pkey key = public_key_from_der(input, false);
    if (!key) return tl::unexpected(std::string("neither a PEM nor a DER public key (SubjectPublicKeyInfo)"));
    return spki_of(key.get());
  }
  auto blocks = pem_blocks(input);
  if (!blocks) return tl::unexpected(blocks.error());
  for (const auto& b : *blocks) {
    if (b.label != "PUBLIC KEY" && b.label != "RSA PUBLIC KEY") continue;
    Pkey key = public_key_from_der(b.der, b.label == "RSA PUBLIC KEY");
    if (!key) return tl::unexpected(fmt::format("the {} block does not parse", b.label));
    return spki_of(key.get());
  }
  return tl::unexpected(fmt::format("no PUBLIC KEY block in the file (found {})", labels_of(*blocks)));
}

tl::expected<Bytes, std::string> parse_csr(const Bytes& input) {
  ClearErrors clear;
  if (input.empty()) return tl::unexpected(std::string("the file is empty"));
  if (!looks_like_pem(input)) {
    auto out = csr_from_der(input);
    if (!out && out.error() == "not a PKCS#10 certificate request")
      return tl::unexpected(std::string("neither a PEM nor a DER certificate request"));
    return out;
  }
  auto blocks = pem_blocks(input);
  if (!blocks) return tl::unexpected(blocks.error());
  for (const auto& b : *blocks) {
    if (b.label == "CERTIFICATE REQUEST" || b.label == "NEW CERTIFICATE REQUEST") return csr_from_der(b.der);
  }
  return tl::unexpected(fmt::format("no CERTIFICATE REQUEST block in the file (found {})", labels_of(*blocks)));
}

tl::expected<Bytes, std::string> read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return tl::unexpected(fmt::format("{}: is a directory", path));
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return tl::unexpected(fmt::format("{}: {}", path, std::strerror(errno)));
  // Bounded whatever the file is (a device, a pipe, an endless stream).
  Bytes out;
  std::uint8_t buf[16384];
  while (true) {
    std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
    if (n > 0) {
      if (out.size() + n > max_input_file_bytes)
        return tl::unexpected(fmt::format("{}: larger than {} bytes", path, max_input_file_bytes));
      out.insert(out.end(), buf, buf + n);
    }
    if (n < sizeof buf) break;
  }
  if (std::ferror(f.get())) return tl::unexpected(fmt::format("{}: read error: {}", path, std::strerror(errno)));
  return out;
}

tl::expected<std::vector<CertInfo>, std::string> load_certificates(const std::string& path) {
  return with_path<std::vector<CertInfo>>(path, parse_certificates);
}
tl::expected<Bytes, std::string> load_private_key(const std::string& path) {
  return with_path<Bytes>(path, parse_private_key);
}
tl::expected<Bytes, std::string> load_public_key(const std::string& path) {
  return with_path<Bytes>(path, parse_public_key);
}
tl::expected<Bytes, std::string> load_csr(const std::string& path) { return with_path<Bytes>(path, parse_csr); }

bool same_public_key(const Bytes& spki_a, const Bytes& spki_b) {
  if (spki_a == spki_b) return true;
  ClearErrors clear;
  Pkey a = public_key_from_der(spki_a, false);
  Pkey b = public_key_from_der(spki_b, false);
  return a && b && EVP_PKEY_eq(a.get(), b.get()) == 1;
}

std::string describe_public_key(const Bytes& spki) {
  ClearErrors clear;
  Pkey key = public_key_from_der(spki, false);
  if (!key) return "unknown";
  int bits = EVP_PKEY_get_bits(key.get());
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA: return fmt::format("RSA {}", bits);
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key.get(), "group", group, sizeof group, &len) == 1)
        return fmt::format("EC {}", group);
      return fmt::format("EC {}", bits);
    }
    case EVP_PKEY_ED25519: return "Ed25519";
    case EVP_PKEY_ED448: return "Ed448";
  }
  return fmt::format("{} {}", OBJ_nid2sn(EVP_PKEY_get_base_id(key.get())), bits);
}

}  // namespace danekit

namespace danekit {

tl::expected<KeySource, std::string> load_key_source(const std::string& path, KeyKind kind) {
  KeySource s;
  s.name = path;
  switch (kind) {
    case KeyKind::cert: {
      auto chain = load_certificates(path);
      if (!chain) return tl::unexpected(chain.error());
      s.chain = std::move(*chain);
      s.spki = s.chain.front().spki_der;
      return s;
    }
    case KeyKind::key: {
      auto spki = load_private_key(path);
      if (!spki) return tl::unexpected(spki.error());
      s.spki = std::move(*spki);
      return s;
    }
    case KeyKind::pubkey: {
      auto spki = load_public_key(path);
      if (!spki) return tl::unexpected(spki.error());
      s.spki = std::move(*spki);
      return s;
    }
    case KeyKind::csr: {
      auto spki = load_csr(path);
      if (!spki) return tl::unexpected(spki.error());
      s.spki = std::move(*spki);
      return s;
    }
  }
  return tl::unexpected(std::string("unknown key kind"));
}

tl::expected<KeySource, std::string> generate_key_file(const std::string& path, int rsa_bits) {
  if (rsa_bits != 0 && (rsa_bits < 2048 || rsa_bits > 8192))
    return tl::unexpected(fmt::format("RSA keys must have 2048 to 8192 bits, not {}", rsa_bits));
  Pkey key(rsa_bits ? EVP_RSA_gen(static_cast<unsigned>(rsa_bits)) : EVP_EC_gen("P-256"));
  if (!key) return tl::unexpected(std::string("key generation failed"));
  auto spki = spki_of(key.get());
  if (!spki) return tl::unexpected(spki.error());
  std::unique_ptr<BIO, BioFree> mem(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(mem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return tl::unexpected(std::string("cannot encode the new key"));
  char* pem = nullptr;
  long len = BIO_get_mem_data(mem.get(), &pem);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    return tl::unexpected(
        fmt::format("{}: {}", path, errno == EEXIST ? "exists; will not overwrite a key" : std::strerror(errno)));
  bool ok = ::write(fd, pem, static_cast<size_t>(len)) == len;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return tl::unexpected(fmt::format("{}: cannot write the key", path));
  }
  KeySource s;
  s.name = path;
  s.spki = std::move(*spki);
  return s;
}

}  // namespace danekit
