// The SMTP/TLS probe against scripted servers on 127.0.0.1: real TLS with DANE
// records, and hostile peers that stall, trickle, flood or lie. Every case must
// end with a definite outcome inside its deadline.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <functional>
#include <thread>

#include "net/smtp_probe.h"
#include "scripted_server.h"
#include "test_pki.h"
#include "tls/openssl/smtp_tls.h"

namespace danekit {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using testing::Issued;
using testing::Peer;
using testing::ScriptedServer;
using testing::serve_tls;
using testing::ServerTls;

ProbeResult run_probe(ProbeRequest req) {
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  tls::configure_context(ctx.native_handle());
  ProbeResult out;
  asio::co_spawn(io, probe_smtp(ctx, req), [&](std::exception_ptr e, ProbeResult r) {
    if (e) std::rethrow_exception(e);
    out = std::move(r);
  });
  io.run();
  return out;
}

ProbeRequest request(std::uint16_t port, ProbeMode mode = ProbeMode::opportunistic) {
  ProbeRequest r;
  r.address = "127.0.0.1";
  r.port = port;
  r.mode = mode;
  r.tlsa_base = "mx.test";
  r.connect_timeout = 1000ms;
  r.command_timeout = 800ms;
  r.total_timeout = 3000ms;
  return r;
}

TlsaRecord record(std::uint8_t u, std::uint8_t s, std::uint8_t m, const Issued& c) {
  return TlsaRecord{u, s, m, tlsa_association(testing::info_of(c.cert), s, m)};
}

TEST(Probe, DaneEeMatchVerifies) {
  ServerTls tls;
  ScriptedServer server([&](tcp::socket& s) { serve_tls(s, tls.ctx); });
  auto req = request(server.port(), ProbeMode::dane);
  req.records = {record(3, 1, 1, tls.leaf)};
  auto r = run_probe(req);
  EXPECT_EQ(r.outcome, Outcome::verified) << r.detail;
  EXPECT_EQ(r.match_depth, 0);
  ASSERT_EQ(r.chain.size(), 2u);
  EXPECT_EQ(r.chain[0].dns_names, std::vector<std::string>{"mx.test"});
  EXPECT_FALSE(r.tls_version.empty());
  EXPECT_EQ(r.stage, "done");
}

TEST(Probe, DaneEeIgnoresNamesAndDates) {
  ServerTls tls;
  auto expired = testing::issue("elsewhere", &tls.inter, false, {"elsewhere.example"}, -86400 * 30, -86400);
  tls.use(expired, {tls.inter});
  ScriptedServer server([&](tcp::socket& s) { serve_tls(s, tls.ctx); });
  auto req = request(server.port(), ProbeMode::dane);
  req.records = {record(3, 1, 1, expired)};
  EXPECT_EQ(run_probe(req).outcome, Outcome::verified);
}

TEST(Probe, DaneTaChecksTheName) {
  ServerTls tls;
  ScriptedServer server([&](tcp::socket& s) { serve_tls(s, tls.ctx); });
  auto req = request(server.port(), ProbeMode::dane);
  req.tlsa_base = "other.test";
  req.records = {record(2, 1, 1, tls.inter)};
  auto r = run_probe(req);
  EXPECT_EQ(r.outcome, Outcome::name_mismatch) << r.detail;
}

TEST(Probe, DaneTaAcceptsTheNextHopName) {
  ServerTls tls;
  ScriptedServer server([&](tcp::socket& s) { serve_tls(s, tls.ctx); });
  auto req = request(server.port(), ProbeMode::dane);
  req.tlsa_base = "other.test";
  req.extra_names = {"mx.test"};
  req.records = {record(2, 1, 1, tls.inter)};
  auto r = run_probe(req);
  EXPECT_EQ(r.outcome, Outcome::verified) << r.detail;
  EXPECT_EQ(r.match_depth, 1);
}

TEST(Probe, DaneTaChecksDates) {
  ServerTls tls;
  auto expired = testing::issue("mx.test", &tls.inter, false, {"mx.test"}, -86400 * 30, -86400);
  tls.use(expired, {tls.inter});
  ScriptedServer server([&](tcp::socket& s) { serve_tls(s, tls.ctx); });
  auto req = request(server.port(), ProbeMode::dane);
  req.records = {record(2, 0, 1, tls.inter)};
  EXPECT_EQ(run_probe(req).outcome, Outcome::expired);
}

TEST(Probe, WrongKeyIsAMismatch) {
  ServerTls tls;
  auto other = testing::issue("x", nullptr, false);
  ScriptedServer server([&](tcp::socket& s) { serve_tls(s, tls.ctx); });
  auto req = request(server.port(), ProbeMode::dane);
  req.records = {record(3, 1, 1, other)};
  auto r = run_probe(req);
  EXPECT_EQ(r.outcome, Outcome::mismatch);
  EXPECT_EQ(r.chain.size(), 2u);  // the chain is still reported
}

TEST(Probe, OpportunisticTlsIsEncrypted) {
  ServerTls tls;
  ScriptedServer server([&](tcp::socket& s) { serve_tls(s, tls.ctx); });
  EXPECT_EQ(run_probe(request(server.port())).outcome, Outcome::encrypted);
}

TEST(Probe, NothingListeningIsUnreachable) {
  std::uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  auto r = run_probe(request(port));
  EXPECT_EQ(r.outcome, Outcome::unreachable);
  EXPECT_EQ(r.stage, "connect");
}

struct Hostile {
  const char* name;
  std::function<void(tcp::socket&)> script;
  Outcome expected;
  const char* stage;
};

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

TEST(Probe, HostilePeersEndOnTime) {
  std::vector<Hostile> cases{
      {"silent after accept", [](tcp::socket&) { sleep_ms(1500); }, Outcome::unreachable, "banner"},
      {"greeting trickled byte by byte",
       [](tcp::socket& s) {
         Peer p{s};
         for (int i = 0; i < 40; ++i) {
           p.say("2");
           sleep_ms(100);
         }
       },
       Outcome::unreachable, "banner"},
      {"endless continuation lines",
       [](tcp::socket& s) {
         Peer p{s};
         for (int i = 0; i < 5000; ++i) p.say("220-spam spam spam\r\n");
       },
       Outcome::unreachable, "banner"},
      {"one huge line",
       [](tcp::socket& s) {
         Peer p{s};
         p.say("220 " + std::string(1 << 20, 'x'));
       },
       Outcome::unreachable, "banner"},
      {"554 greeting",
       [](tcp::socket& s) {
         Peer p{s};
         p.say("554 go away\r\n");
         sleep_ms(100);
       },
       Outcome::unreachable, "banner"},
      {"no STARTTLS",
       [](tcp::socket& s) {
         Peer p{s};
         p.say("220 hi\r\n");
         p.hear();
         p.say("250-mx\r\n250 8BITMIME\r\n");
         p.hear();
         p.say("221 bye\r\n");
       },
       Outcome::no_starttls, "ehlo"},
      {"STARTTLS refused",
       [](tcp::socket& s) {
         Peer p{s};
         p.open_to_starttls();
         p.say("454 TLS not available\r\n");
       },
       Outcome::no_starttls, "starttls"},
      {"STARTTLS never answered",
       [](tcp::socket& s) {
         Peer p{s};
         p.open_to_starttls();
         sleep_ms(1500);
       },
       Outcome::unreachable, "starttls"},
      {"connection closed instead of a STARTTLS reply",
       [](tcp::socket& s) {
         Peer p{s};
         p.open_to_starttls();
       },
       Outcome::unreachable, "starttls"},
      {"malformed STARTTLS reply",
       [](tcp::socket& s) {
         Peer p{s};
         p.open_to_starttls();
         p.say("2x0 what\r\n");
         sleep_ms(200);
       },
       Outcome::no_starttls, "starttls"},
      {"closed right after 220 to STARTTLS",
       [](tcp::socket& s) {
         Peer p{s};
         p.open_to_starttls();
         p.say("220 go\r\n");
       },
       Outcome::tls_failed, "handshake"},
      {"plaintext instead of ServerHello",
       [](tcp::socket& s) {
         Peer p{s};
         p.open_to_starttls();
         p.say("220 go\r\n");
         p.say("250 this is not TLS at all\r\n");
         sleep_ms(200);
       },
       Outcome::tls_failed, "handshake"},
      {"handshake stalls",
       [](tcp::socket& s) {
         Peer p{s};
         p.open_to_starttls();
         p.say("220 go\r\n");
         sleep_ms(1500);
       },
       Outcome::tls_failed, "handshake"},
      {"EHLO never answered",
       [](tcp::socket& s) {
         Peer p{s};
         p.say("220 hi\r\n");
         sleep_ms(1500);
       },
       Outcome::unreachable, "ehlo"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ScriptedServer server(c.script);
    auto started = std::chrono::steady_clock::now();
    auto r = run_probe(request(server.port(), ProbeMode::dane));
    auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(r.outcome, c.expected) << r.detail;
    EXPECT_EQ(r.stage, c.stage) << r.detail;
    EXPECT_FALSE(r.detail.empty());
    // Deadline is 3 s for the whole probe; allow scheduling slack.
    EXPECT_LT(took, 4500ms);
  }
}

TEST(Probe, HugeChainIsATlsFailureNotAHang) {
  ServerTls tls;
  // 60 intermediates with 40 long names each: well over OpenSSL's 100 KiB
  // peer certificate list limit.
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back(std::string(50, static_cast<char>('a' + i % 26)) + ".example");
  std::vector<Issued> extra;
  for (int i = 0; i < 60; ++i) extra.push_back(testing::issue("filler " + std::to_string(i), &tls.root, true, names));
  tls.use(tls.leaf, extra);
  ScriptedServer server([&](tcp::socket& s) { serve_tls(s, tls.ctx); });
  auto req = request(server.port(), ProbeMode::dane);
  req.records = {record(3, 1, 1, tls.leaf)};
  auto started = std::chrono::steady_clock::now();
  auto r = run_probe(req);
  EXPECT_EQ(r.outcome, Outcome::tls_failed) << r.detail;
  EXPECT_EQ(r.stage, "handshake");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4500ms);
}

TEST(Probe, PlaintextInjectedAfterStarttlsIsFlaggedAndDiscarded) {
  ServerTls tls;
  ScriptedServer server([&](tcp::socket& s) {
    Peer p{s};
    if (!p.open_to_starttls()) return;
    p.say("220 go ahead\r\n250 injected\r\n");
    asio::ssl::stream<tcp::socket&> t(s, tls.ctx);
    boost::system::error_code ec;
    t.handshake(asio::ssl::stream_base::server, ec);
  });
  auto r = run_probe(request(server.port()));
  EXPECT_TRUE(r.plaintext_injection);
}

}  // namespace
}  // namespace danekit
