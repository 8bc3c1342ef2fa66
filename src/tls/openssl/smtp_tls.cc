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
  if (req.mode != ProbeMode::dane) return {};
  if (SSL_dane_enable(ssl, req.tlsa_base.empty() ? nullptr : req.tlsa_base.c_str()) <= 0)
    return "cannot enable DANE: " + error_queue();
  // §3.2.1: DANE-EE(3) means no name checks. Names apply to DANE-TA(2) only.
  SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  for (const auto& name : req.extra_names) SSL_add1_host(ssl, name.c_str());
  int added = 0;
  for (const auto& r : req.records) {
    int rc = SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.mtype, r.data.data(), r.data.size());
    if (rc > 0) ++added;
    ERR_clear_error();  // a malformed record is unusable, not fatal (RFC 7671 §5)
  }
  if (added == 0) return "OpenSSL accepted none of the TLSA records";
  return {};
}

void collect(SSL* ssl, const ProbeRequest& req, ProbeResult& out) {
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
  if (req.mode != ProbeMode::dane) {
    out.outcome = Outcome::encrypted;
    out.detail = "TLS established without authentication";
    return;
  }
  long vr = SSL_get_verify_result(ssl);
  std::uint8_t u = 0, s = 0, m = 0;
  const unsigned char* data = nullptr;
  size_t dlen = 0;
  int depth = SSL_get0_dane_tlsa(ssl, &u, &s, &m, &data, &dlen);
  if (vr != X509_V_OK) out.verify_error = X509_verify_cert_error_string(vr);
  if (vr == X509_V_OK && depth >= 0) {
    out.outcome = Outcome::verified;
    out.match_depth = depth;
    TlsaRecord r;
    r.usage = u;
    r.selector = s;
    r.mtype = m;
    if (data) r.data.assign(data, data + dlen);
    out.matched = r;
    out.detail = fmt::format("matched {} at depth {}", describe_parameters(r), depth);
    return;
  }
  switch (vr) {
    case X509_V_ERR_HOSTNAME_MISMATCH: out.outcome = Outcome::name_mismatch; break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID: out.outcome = Outcome::expired; break;
    default: out.outcome = Outcome::mismatch;
  }
  out.detail = out.verify_error.empty() ? "no TLSA record matched" : out.verify_error;
}

}  // namespace danekit::tls
