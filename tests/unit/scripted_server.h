// Scripted SMTP servers on 127.0.0.1 for tests: one connection each, run on a
// thread with blocking Asio, doing whatever the test scripts (a real STARTTLS +
// TLS exchange, or hostile behaviour). Test-only code.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "test_pki.h"

namespace danekit::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Blocking helpers for the scripted server side.
struct Peer {
  tcp::socket& sock;
  asio::streambuf in;
  void say(const std::string& s) {
    boost::system::error_code ec;
    asio::write(sock, asio::buffer(s), ec);
  }
  std::string hear() {
    boost::system::error_code ec;
    auto n = asio::read_until(sock, in, "\r\n", ec);
    if (ec) return {};
    std::string line(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + static_cast<long>(n));
    in.consume(n);
    return line;
  }
  // The usual opening up to and including the 220 to STARTTLS.
  bool open_to_starttls() {
    say("220 mx.test ESMTP\r\n");
    if (hear().rfind("EHLO", 0) != 0) return false;
    say("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
    if (hear() != "STARTTLS\r\n") return false;
    return true;
  }
};

class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(tcp::socket&)> script)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), script_(std::move(script)) {
    thread_ = std::thread([this] {
      tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (!ec) script_(s);
      s.close(ec);
    });
  }
  ~ScriptedServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::function<void(tcp::socket&)> script_;
  std::thread thread_;
};

struct ServerTls {
  Issued root = testing::issue("Test Root", nullptr, true);
  Issued inter = testing::issue("Test Int", &root, true);
  Issued leaf = testing::issue("mx.test", &inter, false, {"mx.test"});
  asio::ssl::context ctx{asio::ssl::context::tls_server};
  ServerTls() { use(leaf, {inter}); }
  void use(const Issued& cert, std::vector<Issued> extra) {
    SSL_CTX_use_certificate(ctx.native_handle(), cert.cert.get());
    SSL_CTX_use_PrivateKey(ctx.native_handle(), cert.key.get());
    SSL_CTX_clear_chain_certs(ctx.native_handle());
    for (auto& e : extra) SSL_CTX_add1_chain_cert(ctx.native_handle(), e.cert.get());
  }
};

// Completes STARTTLS and a TLS handshake, answers EHLO and QUIT inside TLS.
inline void serve_tls(tcp::socket& s, asio::ssl::context& ctx) {
  Peer p{s};
  if (!p.open_to_starttls()) return;
  p.say("220 go ahead\r\n");
  asio::ssl::stream<tcp::socket&> tls(s, ctx);
  boost::system::error_code ec;
  tls.handshake(asio::ssl::stream_base::server, ec);
  if (ec) return;
  asio::streambuf in;
  for (int i = 0; i < 2; ++i) {
    auto n = asio::read_until(tls, in, "\r\n", ec);
    if (ec) return;
    std::string line(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + static_cast<long>(n));
    in.consume(n);
    std::string reply = line.rfind("QUIT", 0) == 0 ? "221 bye\r\n" : "250 mx.test\r\n";
    asio::write(tls, asio::buffer(reply), ec);
  }
}

}  // namespace danekit::testing
