// Offline DANE verification of a captured chain with OpenSSL's DANE code, the
// same code a handshake with SSL_dane_enable runs, so the verdict is the one
// Postfix (which uses it) reaches.
#include "danekit/authenticate.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>
#include <memory>
#include <stdexcept>

#include "tls/openssl/smtp_tls.h"

namespace danekit {

namespace {

// The process's one client context (DANE enabled, no trust store: DANE-TA and
// DANE-EE need none, the verify depth of the probes).
SSL_CTX* verify_context() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = tls::shared_client_context();
    if (!c) throw std::runtime_error("cannot create an OpenSSL context: " + tls::error_queue());
    return c;
  }();
  return ctx;
}

struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};

}  // namespace

Authentication authenticate(const std::vector<CertInfo>& chain, const std::vector<TlsaRecord>& records,
                            const std::string& base, const std::vector<std::string>& extra_names, std::int64_t at) {
  Authentication out;
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(verify_context()));
  if (!ssl) {
    out.outcome = Outcome::tls_failed;
    out.detail = "cannot create an OpenSSL session: " + tls::error_queue();
    return out;
  }
  SSL_set_connect_state(ssl.get());
  if (SSL_dane_enable(ssl.get(), base.empty() ? nullptr : base.c_str()) <= 0) {
    out.outcome = Outcome::tls_failed;
    out.detail = "cannot enable DANE: " + tls::error_queue();
    return out;
  }
  // RFC 7672 §3.2.1: DANE-EE(3) means no name checks; names apply to DANE-TA(2).
  SSL_dane_set_flags(ssl.get(), DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  SSL_set_hostflags(ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  for (const auto& name : extra_names) SSL_add1_host(ssl.get(), name.c_str());
  for (const auto& r : records) {
    if (SSL_dane_tlsa_add(ssl.get(), r.usage, r.selector, r.mtype, r.data.data(), r.data.size()) > 0) ++out.accepted;
    ERR_clear_error();  // a malformed record is unusable, not fatal (RFC 7671 §5)
  }
  if (out.accepted == 0) {
    out.outcome = Outcome::tls_failed;
    out.detail = "OpenSSL accepted none of the TLSA records";
    return out;
  }
  if (chain.empty()) {
    out.outcome = Outcome::mismatch;
    out.detail = "the server sent no certificate";
    return out;
  }

  std::unique_ptr<STACK_OF(X509), ChainFree> untrusted(sk_X509_new_null());
  for (const auto& c : chain) {
    const unsigned char* p = c.der.data();
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(c.der.size()));
    if (!x || !sk_X509_push(untrusted.get(), x)) {
      X509_free(x);
      out.outcome = Outcome::mismatch;
      out.detail = "a certificate of the chain cannot be decoded";
      ERR_clear_error();
      return out;
    }
  }
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> sctx(X509_STORE_CTX_new());
  X509* leaf = sk_X509_value(untrusted.get(), 0);
  if (!sctx || !X509_STORE_CTX_init(sctx.get(), SSL_CTX_get_cert_store(verify_context()), leaf, untrusted.get())) {
    out.outcome = Outcome::tls_failed;
    out.detail = "cannot set up verification: " + tls::error_queue();
    return out;
  }
  X509_STORE_CTX_set_ex_data(sctx.get(), SSL_get_ex_data_X509_STORE_CTX_idx(), ssl.get());
  X509_STORE_CTX_set_default(sctx.get(), "ssl_server");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(sctx.get());
  X509_VERIFY_PARAM_set1(param, SSL_get0_param(ssl.get()));
  if (at > 0) X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  X509_STORE_CTX_set0_dane(sctx.get(), SSL_get0_dane(ssl.get()));
  X509_verify_cert(sctx.get());
  long vr = X509_STORE_CTX_get_error(sctx.get());
  SSL_set_verify_result(ssl.get(), vr);
  ERR_clear_error();

  std::uint8_t u = 0, s = 0, m = 0;
  const unsigned char* data = nullptr;
  size_t dlen = 0;
  int depth = SSL_get0_dane_tlsa(ssl.get(), &u, &s, &m, &data, &dlen);
  if (vr != X509_V_OK) out.verify_error = X509_verify_cert_error_string(vr);
  if (vr == X509_V_OK && depth >= 0) {
    out.outcome = Outcome::verified;
    out.depth = depth;
    TlsaRecord r;
    r.usage = u;
    r.selector = s;
    r.mtype = m;
    if (data) r.data.assign(data, data + dlen);
    out.matched = r;
    if (const char* peer = X509_VERIFY_PARAM_get0_peername(param)) out.matched_name = peer;
    out.detail = fmt::format("matched {} at depth {}", describe_parameters(r), depth);
    return out;
  }
  switch (vr) {
    case X509_V_ERR_HOSTNAME_MISMATCH: out.outcome = Outcome::name_mismatch; break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID: out.outcome = Outcome::expired; break;
    // OpenSSL's own limits, which every OpenSSL-based sender applies the same
    // way: not a TLSA mismatch (the record may match), so not "publish TLSA".
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
    case X509_V_ERR_CERT_CHAIN_TOO_LONG: out.outcome = Outcome::policy_rejected; break;
    default: out.outcome = Outcome::mismatch;
  }
  out.detail = out.verify_error.empty() ? "no TLSA record matched" : out.verify_error;
  return out;
}

}  // namespace danekit
