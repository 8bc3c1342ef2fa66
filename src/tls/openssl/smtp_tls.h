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

// Sets SNI and, in DANE mode, the TLSA records and reference identifiers on a
// fresh connection. Returns an error message, empty on success.
std::string prepare(SSL* ssl, const ProbeRequest& req);

// After a completed handshake: protocol, cipher, chain and the DANE outcome.
void collect(SSL* ssl, const ProbeRequest& req, ProbeResult& out);

// The OpenSSL error queue as one line (and clears it).
std::string error_queue();

}  // namespace danekit::tls
