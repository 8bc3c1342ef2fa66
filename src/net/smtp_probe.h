// The SMTP/STARTTLS/TLS exchange with one address, on the caller's event loop.
//
// The exchange (smtp_session) and the authentication (finish_probe) are apart:
// a session depends only on (address, port, SNI, HELO), so the engine makes it
// once and authenticates its chain per domain, offline, against each domain's
// own TLSA records and reference identifiers.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <string>

#include "danekit/probe.h"

namespace danekit {

struct SmtpSession {
  // outcome: unreachable, no_starttls or tls_failed when the exchange ended
  // before TLS was up; encrypted when it was (chain, version, cipher set).
  ProbeResult result;
  bool tls = false;       // the handshake completed
  std::string after_tls;  // what went wrong after the handshake (second EHLO), "; ..." or empty
};

// Never throws for anything the peer does. Uses address, port, implicit_tls,
// tlsa_base (as SNI), helo and the timeouts of `req`; not its mode or records.
boost::asio::awaitable<SmtpSession> smtp_session(boost::asio::ssl::context& tls, ProbeRequest req);

// The probe result for `req` from a session: DANE authentication of the chain
// (mode dane) at time `at` (seconds since the epoch, 0: now), or encryption only.
ProbeResult finish_probe(const SmtpSession& session, const ProbeRequest& req, std::int64_t at);

// smtp_session + finish_probe at the current time.
boost::asio::awaitable<ProbeResult> probe_smtp(boost::asio::ssl::context& tls, ProbeRequest req);

// The local cause behind a socket error ("descriptors", "ports", "memory"), or
// empty when the error says something about the peer or the path to it.
std::string local_cause_of(const boost::system::error_code& ec);

}  // namespace danekit
