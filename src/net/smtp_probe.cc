// One probe: connect, banner, EHLO, STARTTLS, TLS handshake with DANE, EHLO,
// QUIT. A watchdog closes the socket when a step outlives its budget, so a
// silent or trickling peer ends the probe on time; every read is bounded.
#include "net/smtp_probe.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>
#include <cerrno>
#include <functional>
#include <memory>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "danekit/authenticate.h"
#include "net/smtp_reply.h"
#include "tls/openssl/smtp_tls.h"
#include "util/hex.h"

namespace danekit {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t max_reply_bytes = 256 * 1024;
constexpr std::chrono::milliseconds quit_timeout{2000};

struct Session : std::enable_shared_from_this<Session> {
  asio::ssl::stream<tcp::socket> stream;
  asio::steady_timer timer;
  Clock::time_point deadline;
  unsigned generation = 0;
  bool timed_out = false;

  Session(asio::any_io_executor ex, asio::ssl::context& ctx, Clock::time_point d)
      : stream(ex, ctx), timer(ex), deadline(d) {}

  // Gives the next step `budget`, never past the whole-probe deadline.
  void arm(std::chrono::milliseconds budget) {
    ++generation;
    timed_out = false;
    timer.expires_at(std::min(Clock::now() + budget, deadline));
    timer.async_wait([weak = weak_from_this(), gen = generation](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || gen != self->generation) return;
      self->timed_out = true;
      boost::system::error_code ignored;
      self->stream.lowest_layer().close(ignored);
    });
  }
  void disarm() {
    ++generation;
    timer.cancel();
  }
  bool io_failed = false;  // the last failure came from the transport (timeout, reset, close)
  std::string failure;     // ProbeResult::failure of the last transport failure

  std::string why(const boost::system::error_code& ec) {
    io_failed = true;
    failure = failure_of(ec);
    if (timed_out) return "timed out";
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return "connection closed by the server";
    return ec.message();
  }

  std::string failure_of(const boost::system::error_code& ec) const {
    if (timed_out) return "timeout";
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return "closed";
    if (ec == asio::error::connection_refused) return "refused";
    if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) return "reset";
    if (ec == asio::error::host_unreachable) return "host-unreachable";
    return "closed";
  }
};

template <class Stream>
asio::awaitable<std::optional<SmtpReply>> read_reply(Stream& s, Session& session, std::string& buf, std::string& err) {
  SmtpReplyParser parser;
  std::size_t total = 0;
  char tmp[4096];
  while (true) {
    auto st = parser.feed(buf);
    if (st == SmtpReplyParser::State::complete) co_return parser.reply();
    if (st == SmtpReplyParser::State::error) {
      err = parser.error();
      co_return std::nullopt;
    }
    if (total > max_reply_bytes) {
      err = fmt::format("reply longer than {} bytes", max_reply_bytes);
      co_return std::nullopt;
    }
    boost::system::error_code ec;
    std::size_t n = co_await s.async_read_some(asio::buffer(tmp), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      err = session.why(ec);
      co_return std::nullopt;
    }
    total += n;
    buf.append(tmp, n);
  }
}

template <class Stream>
asio::awaitable<bool> send(Stream& s, Session& session, const std::string& line, std::string& err) {
  boost::system::error_code ec;
  co_await asio::async_write(s, asio::buffer(line), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    err = session.why(ec);
    co_return false;
  }
  co_return true;
}

std::string reply_text(const SmtpReply& r) {
  return fmt::format("{} {}", r.code, r.lines.empty() ? "" : r.lines.front());
}

// The plaintext part: banner, EHLO, STARTTLS. Returns false when the probe
// has ended there (finish() was called).
asio::awaitable<bool> smtp_to_starttls(tcp::socket& sock, Session& session, const ProbeRequest& req, ProbeResult& out,
                                       std::string& buf,
                                       const std::function<void(Outcome, std::string, std::string)>& finish) {
  std::string err;
  session.arm(req.command_timeout);
  auto banner = co_await read_reply(sock, session, buf, err);
  if (!banner) {
    finish(Outcome::unreachable, "banner", "greeting: " + err);
    co_return false;
  }
  out.banner = reply_text(*banner);
  if (banner->code != 220) {
    finish(Outcome::unreachable, "banner", "greeting refused: " + out.banner);
    co_return false;
  }

  session.arm(req.command_timeout);
  if (!co_await send(sock, session, fmt::format("EHLO {}\r\n", req.helo), err)) {
    finish(Outcome::unreachable, "ehlo", "EHLO: " + err);
    co_return false;
  }
  auto ehlo = co_await read_reply(sock, session, buf, err);
  if (!ehlo) {
    finish(Outcome::unreachable, "ehlo", "EHLO reply: " + err);
    co_return false;
  }
  if (ehlo->code != 250) {
    finish(Outcome::no_starttls, "ehlo", "EHLO refused: " + reply_text(*ehlo));
    co_return false;
  }
  out.starttls_offered = ehlo_has(*ehlo, "STARTTLS");
  if (!out.starttls_offered) {
    session.arm(quit_timeout);
    if (co_await send(sock, session, "QUIT\r\n", err)) co_await read_reply(sock, session, buf, err);
    finish(Outcome::no_starttls, "ehlo", "STARTTLS is not offered in the EHLO reply");
    co_return false;
  }

  session.arm(req.command_timeout);
  session.io_failed = false;
  // Silence or a reset after STARTTLS is the same trouble as one step earlier
  // (unreachable, perhaps temporary), not a server without STARTTLS; only a
  // refusal or a malformed reply is the server saying no.
  if (!co_await send(sock, session, "STARTTLS\r\n", err)) {
    finish(Outcome::unreachable, "starttls", "STARTTLS: " + err);
    co_return false;
  }
  auto starttls = co_await read_reply(sock, session, buf, err);
  if (!starttls) {
    finish(session.io_failed ? Outcome::unreachable : Outcome::no_starttls, "starttls", "STARTTLS reply: " + err);
    co_return false;
  }
  if (starttls->code != 220) {
    finish(Outcome::no_starttls, "starttls", "STARTTLS refused: " + reply_text(*starttls));
    co_return false;
  }
  // RFC 3207 §5 / CVE-2011-0411: anything already buffered was sent before TLS
  // and must not be read as a reply inside it.
  if (!buf.empty()) {
    out.plaintext_injection = true;
    buf.clear();
  }
  co_return true;
}

}  // namespace

std::string local_cause_of(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category() && ec.category() != boost::system::generic_category())
    return {};
  switch (ec.value()) {
    case EMFILE:
    case ENFILE: return "descriptors";
    case EADDRNOTAVAIL:
    case EADDRINUSE: return "ports";
    case ENOBUFS:
    case ENOMEM: return "memory";
    case EAGAIN: return "ports";         // connect(2): no free local port (Linux)
    case ENETUNREACH: return "network";  // no route from this machine (e.g. no IPv6 here)
    default: return {};
  }
}

asio::awaitable<SmtpSession> smtp_session(asio::ssl::context& tls_ctx, ProbeRequest req) {
  auto started = Clock::now();
  SmtpSession s;
  ProbeResult& out = s.result;
  out.address = req.address;
  auto ex = co_await asio::this_coro::executor;
  auto session = std::make_shared<Session>(ex, tls_ctx, started + req.total_timeout);
  auto& sock = session->stream.next_layer();
  auto finish = [&](Outcome o, std::string stage, std::string detail) {
    out.outcome = o;
    if (o == Outcome::unreachable || o == Outcome::tls_failed) out.failure = session->failure;
    out.stage = std::move(stage);
    out.detail = std::move(detail);
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    session->disarm();
    boost::system::error_code ignored;
    sock.close(ignored);
  };
  std::string err;
  std::string buf;

  boost::system::error_code ec;
  auto addr = asio::ip::make_address(req.address, ec);
  if (ec) {
    finish(Outcome::unreachable, "connect", fmt::format("'{}' is not an IP address", req.address));
    co_return s;
  }
  session->arm(req.connect_timeout);
  co_await sock.async_connect(tcp::endpoint(addr, req.port), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (!session->timed_out) out.local_cause = local_cause_of(ec);
    finish(Outcome::unreachable, "connect", "connect: " + session->why(ec));
    co_return s;
  }

  if (!req.implicit_tls && !co_await smtp_to_starttls(sock, *session, req, out, buf, finish)) co_return s;

  if (auto e = tls::prepare(session->stream.native_handle(), req); !e.empty()) {
    finish(Outcome::tls_failed, "handshake", e);
    co_return s;
  }
  session->arm(req.command_timeout);
  co_await session->stream.async_handshake(asio::ssl::stream_base::client,
                                           asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    auto detail = session->timed_out ? std::string("timed out") : ec.message();
    session->failure = session->failure_of(ec);
    // An alert the server sent (OpenSSL reason codes from SSL_AD_REASON_OFFSET
    // up are received alerts), or a protocol failure on our side of the wire.
    if (!session->timed_out && ec.category() == asio::error::get_ssl_category())
      session->failure =
          ERR_GET_REASON(static_cast<unsigned long>(ec.value())) >= SSL_AD_REASON_OFFSET ? "tls-alert" : "tls-protocol";
    auto queue = tls::error_queue();
    if (!queue.empty() && !session->timed_out) detail += " (" + queue + ")";
    finish(Outcome::tls_failed, "handshake", "TLS handshake: " + detail);
    co_return s;
  }
  tls::collect(session->stream.native_handle(), out);
  s.tls = true;
  auto outcome = out.outcome;
  auto detail = out.detail;

  // The session is settled; the second EHLO and QUIT only show it works.
  session->arm(req.command_timeout);
  if (co_await send(session->stream, *session, fmt::format("EHLO {}\r\n", req.helo), err)) {
    auto again = co_await read_reply(session->stream, *session, buf, err);
    if (!again)
      s.after_tls += "; EHLO after STARTTLS: " + err;
    else if (again->code != 250)
      s.after_tls += "; EHLO after STARTTLS refused: " + reply_text(*again);
  }
  session->arm(quit_timeout);
  if (co_await send(session->stream, *session, "QUIT\r\n", err))
    co_await read_reply(session->stream, *session, buf, err);
  finish(outcome, "done", detail + s.after_tls);
  co_return s;
}

ProbeResult finish_probe(const SmtpSession& session, const ProbeRequest& req, std::int64_t at) {
  ProbeResult out = session.result;
  out.address = req.address;
  if (!session.tls || req.mode != ProbeMode::dane) return out;
  auto auth = authenticate(out.chain, req.records, req.tlsa_base, req.extra_names, at);
  out.outcome = auth.outcome;
  out.match_depth = auth.depth;
  out.matched = auth.matched;
  out.matched_name = auth.matched_name;
  out.verify_error = auth.verify_error;
  out.detail = auth.detail + session.after_tls;
  if (auth.accepted == 0) out.stage = "verify";
  return out;
}

asio::awaitable<ProbeResult> probe_smtp(asio::ssl::context& tls_ctx, ProbeRequest req) {
  auto session = co_await smtp_session(tls_ctx, req);
  co_return finish_probe(session, req, 0);
}

}  // namespace danekit
