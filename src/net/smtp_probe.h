// The SMTP/STARTTLS/TLS exchange with one address, on the caller's event loop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "danekit/probe.h"

namespace danekit {

// Never throws for anything the peer does; every outcome is a ProbeResult.
boost::asio::awaitable<ProbeResult> probe_smtp(boost::asio::ssl::context& tls, ProbeRequest req);

}  // namespace danekit
