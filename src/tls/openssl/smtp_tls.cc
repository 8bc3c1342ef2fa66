#include "tls/openssl/smtp_tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

namespace danekit::tls {

namespace {
constexpr int max_chain_certs = 20;
}

void configure_context(SSL_CTX* ctx) {
  SSL_CTX_dane_enable(ctx);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // verify, record, decide ourselves
  SSL_CTX_set_verify_depth(ctx, 10);
  SSL_CTX_set_max_cert_list(ctx, 100 * 1024);
  // §8.2: never offer anonymous suites when authenticating.
  SSL_CTX_set_cipher_list(ctx, "DEFAULT:!aNULL");
}

SSL_CTX* shared_client_context() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    if (c) configure_context(c);
    return c;
  }();
  if (!ctx) return nullptr;
  SSL_CTX_up_ref(ctx);
  return ctx;
}

std::string error_queue() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    if (out.size() < 400) out += buf;
  }
  return out;
}

std::string prepare(SSL* ssl, const ProbeRequest& req) {
  // §8.1: SNI is the TLSA base domain.
  if (!req.tlsa_base.empty() && SSL_set_tlsext_host_name(ssl, req.tlsa_base.c_str()) != 1)
    return "cannot set SNI: " + error_queue();
  if (!req.sigalgs.empty() && SSL_set1_sigalgs_list(ssl, req.sigalgs.c_str()) != 1)
    return "cannot set the signature algorithms: " + error_queue();
  return {};
}

void collect(SSL* ssl, ProbeResult& out) {
  out.tls_version = SSL_get_version(ssl);
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) out.cipher = SSL_CIPHER_get_name(c);
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    int n = sk_X509_num(chain);
    for (int i = 0; i < n && i < max_chain_certs; ++i) {
      unsigned char* der = nullptr;
      int len = i2d_X509(sk_X509_value(chain, i), &der);
      if (len <= 0) continue;
      std::vector<std::uint8_t> bytes(der, der + len);
      OPENSSL_free(der);
      if (auto info = parse_certificate_der(bytes)) out.chain.push_back(std::move(*info));
    }
  }
  out.outcome = Outcome::encrypted;
  out.detail = "TLS established without authentication";
}

}  // namespace danekit::tls
