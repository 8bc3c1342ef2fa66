// Key and certificate files through OpenSSL's decoders.
#include "danekit/local_key.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <sstream>

namespace danekit {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::vector<std::uint8_t> spki_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return {};
  std::vector<std::uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

tl::expected<std::string, std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return tl::unexpected(fmt::format("{}: cannot read the file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto data = ss.str();
  if (data.size() > 1 << 20) return tl::unexpected(fmt::format("{}: larger than 1 MiB, not a key or certificate", path));
  if (data.empty()) return tl::unexpected(fmt::format("{}: the file is empty", path));
  return data;
}

bool is_pem(const std::string& data) { return data.find("-----BEGIN ") != std::string::npos; }

// Never prompt: an encrypted PEM fails instead of asking for a passphrase.
int no_password(char*, int, int, void* flag) {
  *static_cast<bool*>(flag) = true;
  return -1;
}

}  // namespace

tl::expected<LocalKey, std::string> load_local_key(const std::string& path, KeySource kind) {
  auto data = read_file(path);
  if (!data) return tl::unexpected(data.error());
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(data->data(), static_cast<int>(data->size())));
  LocalKey out;
  out.source = path;
  ERR_clear_error();
  switch (kind) {
    case KeySource::cert: {
      std::vector<X509*> certs;
      if (is_pem(*data)) {
        while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.push_back(x);
      } else if (X509* x = d2i_X509_bio(bio.get(), nullptr)) {
        certs.push_back(x);
      }
      ERR_clear_error();
      if (certs.empty()) return tl::unexpected(fmt::format("{}: no certificate found (PEM or DER)", path));
      for (X509* x : certs) {
        unsigned char* der = nullptr;
        int len = i2d_X509(x, &der);
        std::vector<std::uint8_t> bytes(der, der + len);
        OPENSSL_free(der);
        X509_free(x);
        auto info = parse_certificate_der(bytes);
        if (!info) return tl::unexpected(fmt::format("{}: {}", path, info.error()));
        out.chain.push_back(std::move(*info));
      }
      out.spki_der = out.chain[0].spki_der;
      return out;
    }
    case KeySource::key: {
      bool asked = false;
      std::unique_ptr<EVP_PKEY, PkeyFree> key(
          is_pem(*data) ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, &asked)
                        : d2i_PrivateKey_bio(bio.get(), nullptr));
      ERR_clear_error();
      if (asked || data->find("ENCRYPTED") != std::string::npos)
        return tl::unexpected(fmt::format("{}: the key is encrypted; decrypt it first (openssl pkey -in ...)", path));
      if (!key) return tl::unexpected(fmt::format("{}: not a private key (PEM or DER)", path));
      out.spki_der = spki_of(key.get());
      return out;
    }
    case KeySource::pubkey: {
      std::unique_ptr<EVP_PKEY, PkeyFree> key(is_pem(*data) ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)
                                                            : d2i_PUBKEY_bio(bio.get(), nullptr));
      ERR_clear_error();
      if (!key) return tl::unexpected(fmt::format("{}: not a public key (SubjectPublicKeyInfo, PEM or DER)", path));
      out.spki_der = spki_of(key.get());
      return out;
    }
    case KeySource::csr: {
      X509_REQ* req = is_pem(*data) ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr)
                                    : d2i_X509_REQ_bio(bio.get(), nullptr);
      ERR_clear_error();
      if (!req) return tl::unexpected(fmt::format("{}: not a certificate signing request (PEM or DER)", path));
      EVP_PKEY* key = X509_REQ_get0_pubkey(req);
      bool ok = key && X509_REQ_verify(req, key) == 1;
      if (ok) out.spki_der = spki_of(key);
      X509_REQ_free(req);
      ERR_clear_error();
      if (!ok) return tl::unexpected(fmt::format("{}: the CSR's signature does not verify", path));
      return out;
    }
  }
  return tl::unexpected(std::string("unknown key source"));
}

tl::expected<LocalKey, std::string> generate_key_file(const std::string& path, int rsa_bits) {
  if (rsa_bits != 0 && (rsa_bits < 2048 || rsa_bits > 8192))
    return tl::unexpected(fmt::format("RSA keys must have 2048 to 8192 bits, not {}", rsa_bits));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(rsa_bits ? EVP_RSA_gen(static_cast<unsigned>(rsa_bits))
                                                   : EVP_EC_gen("P-256"));
  if (!key) return tl::unexpected(std::string("key generation failed"));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return tl::unexpected(fmt::format("{}: {}", path, errno == EEXIST ? "exists; will not overwrite a key"
                                                                               : std::strerror(errno)));
  std::unique_ptr<BIO, BioFree> mem(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(mem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* pem = nullptr;
  long len = BIO_get_mem_data(mem.get(), &pem);
  bool ok = ::write(fd, pem, static_cast<size_t>(len)) == len;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return tl::unexpected(fmt::format("{}: cannot write the key", path));
  }
  LocalKey out;
  out.source = path;
  out.spki_der = spki_of(key.get());
  return out;
}

}  // namespace danekit
