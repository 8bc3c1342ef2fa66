// The MTA-STS policy fetch (RFC 8461 §3.3): one HTTPS GET with PKIX
// validation, on the caller's Asio loop. Internal to src/ (Asio types).
//
// What the RFC asks, and what this does:
//  - connect only to the addresses given (danekit's own validated lookups of
//    the policy host), in order, until one completes a TLS handshake;
//  - TLS 1.2 or later, SNI = the policy host, the certificate checked against
//    the system trust store plus an optional CA file, for the host name
//    (a certificate that does not validate ends the fetch: no request is sent);
//  - no redirects followed (3xx is an outcome of its own), 200 only;
//  - the body capped (64 KiB by default), the header capped, one deadline for
//    the whole fetch, so a trickling or endless server ends it on time.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace danekit {

struct HttpsFetchRequest {
  std::string host;                    // SNI and the name the certificate must carry
  std::vector<std::string> addresses;  // IPv4/IPv6 literals from danekit's resolver
  std::uint16_t port = 443;
  std::string target = "/.well-known/mta-sts.txt";
  std::string ca_file;                       // PEM, trusted beside the system store (a private web CA)
  std::chrono::milliseconds timeout{10000};  // the whole fetch
  std::size_t max_body = 64 * 1024;
};

enum class FetchOutcome {
  ok,              // 200 and a body within the cap
  connect_failed,  // no address accepted a connection (detail: the last error)
  timeout,         // the deadline passed (detail: at which step)
  tls_failed,      // handshake failed: protocol version, alert, reset
  pkix_invalid,    // the certificate does not validate for the host (detail: OpenSSL's reason)
  redirect,        // 3xx: not followed (location holds the target)
  http_status,     // another status than 200
  too_large,       // the body or the header over its cap
  bad_response,    // not HTTP, or cut short
};
const char* to_string(FetchOutcome o);

struct HttpsFetchResult {
  FetchOutcome outcome = FetchOutcome::connect_failed;
  std::string address;  // the address that answered (empty if none did)
  int status = 0;
  std::string content_type;
  std::string location;  // 3xx only, bounded
  std::string body;      // ok only
  std::string tls_version;
  std::string detail;
  std::chrono::milliseconds elapsed{0};
};

boost::asio::awaitable<HttpsFetchResult> https_fetch(HttpsFetchRequest req);

}  // namespace danekit
