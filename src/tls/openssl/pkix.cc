// PkixTrust: X509_verify_cert over a captured chain with a store of its own,
// the purpose sslserver and the MX host name, at the check's time.
#include "danekit/pkix.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include "util/hex.h"

namespace danekit {

namespace {

struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};

X509* decode(const CertInfo& c) {
  const unsigned char* p = c.der.data();
  return d2i_X509(nullptr, &p, static_cast<long>(c.der.size()));
}

std::string short_name(X509_NAME* name) {
  if (!name) return "?";
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i >= 0) {
    ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n >= 0) {
      std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
      OPENSSL_free(utf8);
      return sanitize_peer_text(out, 128);
    }
  }
  char buf[256];
  X509_NAME_oneline(name, buf, sizeof buf);
  return sanitize_peer_text(buf, 128);
}

}  // namespace

tl::expected<std::shared_ptr<const PkixTrust>, std::string> PkixTrust::load(const std::string& ca_file) {
  X509_STORE* store = X509_STORE_new();
  if (!store) return tl::unexpected(std::string("cannot create an OpenSSL certificate store"));
  std::shared_ptr<PkixTrust> trust(new PkixTrust());
  trust->store_ = store;
  if (X509_STORE_set_default_paths(store) != 1) ERR_clear_error();  // no system store: only the file
  if (!ca_file.empty()) {
    if (X509_STORE_load_file(store, ca_file.c_str()) != 1) {
      unsigned long e = ERR_peek_last_error();
      ERR_clear_error();
      return tl::unexpected(fmt::format("cannot read CA certificates from {}: {}", ca_file,
                                        e ? ERR_reason_error_string(e) : "no certificate found"));
    }
  }
  return std::shared_ptr<const PkixTrust>(std::move(trust));
}

PkixTrust::~PkixTrust() { X509_STORE_free(static_cast<X509_STORE*>(store_)); }

PkixTrust::Judgment PkixTrust::judge(const std::vector<CertInfo>& chain, const std::string& host,
                                     const std::string& tls_version, std::int64_t at) const {
  Judgment out;
  if (chain.empty()) {
    out.detail = "no certificate chain to judge (the session ended before TLS)";
    return out;
  }
  if (tls_version == "SSLv3" || tls_version == "TLSv1" || tls_version == "TLSv1.1") {
    out.pkix = Pkix::invalid;
    out.detail = fmt::format("{} is below the TLS 1.2 that RFC 8461 §4.2 requires", tls_version);
    return out;
  }
  std::unique_ptr<X509, CertFree> leaf(decode(chain.front()));
  std::unique_ptr<STACK_OF(X509), ChainFree> untrusted(sk_X509_new_null());
  if (!leaf || !untrusted) {
    ERR_clear_error();
    out.pkix = Pkix::invalid;
    out.detail = "the leaf certificate does not parse";
    return out;
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (X509* c = decode(chain[i])) sk_X509_push(untrusted.get(), c);
  }
  ERR_clear_error();
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), static_cast<X509_STORE*>(store_), leaf.get(), untrusted.get()) != 1) {
    ERR_clear_error();
    out.detail = "cannot set up the Web PKI verification (OpenSSL)";
    return out;
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (at > 0) X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  int ok = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (ok == 1) {
    STACK_OF(X509)* path = X509_STORE_CTX_get0_chain(ctx.get());
    X509* top = path && sk_X509_num(path) > 0 ? sk_X509_value(path, sk_X509_num(path) - 1) : nullptr;
    out.pkix = Pkix::valid;
    out.detail =
        fmt::format("valid for {}, trusted through {}", host, top ? short_name(X509_get_subject_name(top)) : "?");
    return out;
  }
  int err = X509_STORE_CTX_get_error(ctx.get());
  int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  out.pkix = Pkix::invalid;
  if (err == X509_V_ERR_HOSTNAME_MISMATCH)
    out.detail = fmt::format("the certificate does not name {}", host);
  else
    out.detail = fmt::format("{} (at depth {})", X509_verify_cert_error_string(err), depth);
  return out;
}

}  // namespace danekit
