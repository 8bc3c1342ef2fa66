// OpenSSL's DANE verification for one SMTP client connection (RFC 7672 §3).
// Internal to src/: the rest of danekit sees only ProbeRequest/ProbeResult.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "danekit/probe.h"

namespace danekit::tls {

// Client context settings shared by every probe: DANE enabled, no session
// cache, bounded peer chain.
void configure_context(SSL_CTX* ctx);

// One configured client context for the process (made once, then never
// changed, so any thread may use it): sessions and offline verification share
// it, and a check pays for SSL_CTX_new once. Returns a new reference.
SSL_CTX* shared_client_context();

// Sets SNI (the TLSA base domain, RFC 7672 §8.1) on a fresh connection.
// Authentication happens after the handshake, offline (danekit/authenticate.h),
// so one handshake can serve every domain that shares the server. Returns an
// error message, empty on success.
std::string prepare(SSL* ssl, const ProbeRequest& req);

// After a completed handshake: protocol, cipher and the chain as sent.
void collect(SSL* ssl, ProbeResult& out);

// The OpenSSL error queue as one line (and clears it).
std::string error_queue();

}  // namespace danekit::tls
