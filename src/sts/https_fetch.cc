#include "sts/https_fetch.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <map>
#include <memory>
#include <mutex>

#include "danekit/version.h"

namespace danekit {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

const char* to_string(FetchOutcome o) {
  switch (o) {
    case FetchOutcome::ok: return "ok";
    case FetchOutcome::connect_failed: return "connect-failed";
    case FetchOutcome::timeout: return "timeout";
    case FetchOutcome::tls_failed: return "tls-failed";
    case FetchOutcome::pkix_invalid: return "pkix-invalid";
    case FetchOutcome::redirect: return "redirect";
    case FetchOutcome::http_status: return "http-status";
    case FetchOutcome::too_large: return "too-large";
    case FetchOutcome::bad_response: return "bad-response";
  }
  return "unknown";
}

namespace {

constexpr std::size_t max_header_bytes = 16 * 1024;
constexpr std::size_t max_location = 512;

// One client context per CA file, made once and never changed after: TLS 1.2
// or later, the system store plus the file. Verification runs in every
// handshake and is read afterwards (SSL_get_verify_result), so that a
// certificate problem is told apart from a failed handshake.
std::shared_ptr<asio::ssl::context> client_context(const std::string& ca_file, std::string& error) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<asio::ssl::context>> contexts;
  std::lock_guard lock(mutex);
  if (auto it = contexts.find(ca_file); it != contexts.end()) return it->second;
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (!ca_file.empty()) {
    ctx->load_verify_file(ca_file, ec);
    if (ec) {
      error = fmt::format("cannot read the CA file {}: {}", ca_file, ec.message());
      return nullptr;
    }
  }
  ctx->set_verify_mode(asio::ssl::verify_none);  // checked after the handshake
  contexts.emplace(ca_file, ctx);
  return ctx;
}

std::string openssl_reason(const boost::system::error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    const char* r = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (r) return r;
  }
  return ec.message();
}

bool timed_out(const boost::system::error_code& ec) { return ec == beast::error::timeout; }

}  // namespace

asio::awaitable<HttpsFetchResult> https_fetch(HttpsFetchRequest req) {
  HttpsFetchResult out;
  const auto start = Steady::now();
  const auto deadline = start + req.timeout;
  auto finish = [&](FetchOutcome o, std::string detail) {
    out.outcome = o;
    out.detail = std::move(detail);
    out.elapsed = std::chrono::duration_cast<milliseconds>(Steady::now() - start);
  };

  std::string error;
  auto ctx = client_context(req.ca_file, error);
  if (!ctx) {
    finish(FetchOutcome::tls_failed, error);
    co_return out;
  }
  auto ex = co_await asio::this_coro::executor;

  std::string last = "no address to connect to";
  bool any_timeout = false;
  for (const auto& text : req.addresses) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(text, ec);
    if (ec) {
      last = fmt::format("{} is not an IP address", text);
      continue;
    }
    if (Steady::now() >= deadline) {
      any_timeout = true;
      break;
    }
    beast::ssl_stream<beast::tcp_stream> stream(ex, *ctx);
    auto& tcp_layer = beast::get_lowest_layer(stream);
    tcp_layer.expires_at(deadline);
    co_await tcp_layer.async_connect(tcp::endpoint(addr, req.port), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      any_timeout = any_timeout || timed_out(ec);
      last = fmt::format("connect to {}: {}", text, timed_out(ec) ? "timed out" : ec.message());
      continue;
    }
    out.address = text;

    SSL* ssl = stream.native_handle();
    if (!SSL_set_tlsext_host_name(ssl, req.host.c_str()) || !SSL_set1_host(ssl, req.host.c_str())) {
      finish(FetchOutcome::tls_failed, "cannot set the server name: " + req.host);
      co_return out;
    }
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (timed_out(ec))
        finish(FetchOutcome::timeout, fmt::format("TLS handshake with {}: timed out", text));
      else
        finish(FetchOutcome::tls_failed, fmt::format("TLS handshake with {}: {}", text, openssl_reason(ec)));
      co_return out;
    }
    out.tls_version = SSL_get_version(ssl);
    if (!SSL_get0_peer_certificate(ssl)) {
      finish(FetchOutcome::pkix_invalid, "the server sent no certificate");
      co_return out;
    }
    if (long v = SSL_get_verify_result(ssl); v != X509_V_OK) {
      finish(FetchOutcome::pkix_invalid, X509_verify_cert_error_string(v));
      co_return out;
    }

    http::request<http::empty_body> get{http::verb::get, req.target, 11};
    get.set(http::field::host, req.host);
    get.set(http::field::user_agent, "danekit/" + std::string(kVersion));
    get.set(http::field::accept, "text/plain");
    get.set(http::field::connection, "close");
    co_await http::async_write(stream, get, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      finish(timed_out(ec) ? FetchOutcome::timeout : FetchOutcome::bad_response,
             fmt::format("sending the request: {}", timed_out(ec) ? "timed out" : ec.message()));
      co_return out;
    }

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(max_header_bytes);
    parser.body_limit(req.max_body);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (parser.is_header_done()) {
      const auto& msg = parser.get();
      out.status = static_cast<int>(msg.result_int());
      out.content_type = std::string(msg[http::field::content_type]).substr(0, 256);
      out.location = std::string(msg[http::field::location]).substr(0, max_location);
    }
    if (ec == http::error::body_limit) {
      finish(FetchOutcome::too_large, fmt::format("the body is over {} bytes", req.max_body));
      co_return out;
    }
    if (ec == http::error::header_limit) {
      finish(FetchOutcome::too_large, fmt::format("the header is over {} bytes", max_header_bytes));
      co_return out;
    }
    if (ec) {
      // A body that ends at a close without TLS close_notify may be cut
      // short: never taken as the whole policy.
      if (timed_out(ec))
        finish(FetchOutcome::timeout,
               parser.is_header_done() ? "the body did not arrive in time" : "no response in time");
      else
        finish(FetchOutcome::bad_response, fmt::format("reading the response: {}", ec.message()));
      co_return out;
    }
    if (out.status >= 300 && out.status < 400) {
      finish(FetchOutcome::redirect, fmt::format("HTTP {} to {} (redirects are not followed, RFC 8461 §3.3)",
                                                 out.status, out.location.empty() ? "nowhere" : out.location));
      co_return out;
    }
    if (out.status != 200) {
      finish(FetchOutcome::http_status, fmt::format("HTTP {}", out.status));
      co_return out;
    }
    out.body = parser.release().body();
    finish(FetchOutcome::ok, fmt::format("HTTP 200, {} bytes", out.body.size()));
    beast::error_code ignored;
    tcp_layer.socket().close(ignored);
    co_return out;
  }
  finish(any_timeout && Steady::now() >= deadline ? FetchOutcome::timeout : FetchOutcome::connect_failed, last);
  co_return out;
}

}  // namespace danekit
