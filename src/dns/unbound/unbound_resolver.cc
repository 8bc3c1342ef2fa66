#include "dns/unbound/unbound_resolver.h"

#include <arpa/inet.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "danekit/keys.h"
#include "dns/ldns/zone_file.h"
#include "dns/unbound/wire.h"

#include <unbound.h>

namespace danekit {

namespace asio = boost::asio;

namespace {

// IANA root KSKs (https://data.iana.org/root-anchors/root-anchors.xml):
// KSK-2017 (key tag 20326) and KSK-2024 (key tag 38696).
constexpr const char* builtin_root_anchors[] = {
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
};

bool is_loopback(const std::string& addr) {
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, addr.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

// libunbound logs through one process-wide stream (log_file() in its
// util/log.c) that every ub_ctx_debugout replaces and ub_ctx_delete resets.
// One /dev/null stream for the whole process, never closed, so that no
// context (the engine runs one per thread) can be left writing to a stream
// another resolver closed.
std::FILE* quiet_log() {
  static std::FILE* const f = std::fopen("/dev/null", "w");
  return f;
}

// DANEKIT_UNBOUND_LOG=N (0-5) asks for libunbound's own log lines on stderr at
// its verbosity N (and its validation failures from 1 on); -1 when unset.
tl::expected<int, std::string> unbound_log_level() {
  const char* v = std::getenv("DANEKIT_UNBOUND_LOG");
  if (!v || !*v) return -1;
  if (v[0] < '0' || v[0] > '5' || v[1] != '\0')
    return tl::unexpected(std::string("DANEKIT_UNBOUND_LOG must be a libunbound verbosity from 0 to 5"));
  return v[0] - '0';
}

// Reads a --trust-anchor or --root-hints file, bounded (a directory,
// /dev/zero or a huge file ends here with one line); dns/ldns/zone_file.h
// parses the bytes.
tl::expected<std::vector<std::uint8_t>, std::string> read_zone_file(const std::string& path, const char* what) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return tl::unexpected(fmt::format("cannot read {} file {}", what, bytes.error()));
  return bytes;
}

// The ub_result's fields and records, handed to the pure classify_answer
// (dns/unbound/wire.h) that the unit tests and the dns_answer fuzz target drive.
Answer classify(const ub_result* res, const std::string& qname, std::uint16_t qtype) {
  ResultFlags flags;
  flags.rcode = res->rcode;
  flags.havedata = res->havedata != 0;
  flags.nxdomain = res->nxdomain != 0;
  flags.secure = res->secure != 0;
  flags.bogus = res->bogus != 0;
  flags.ttl = res->ttl;
  if (res->why_bogus) flags.why_bogus = res->why_bogus;
  std::vector<std::vector<std::uint8_t>> rdata;
  for (int i = 0; res->havedata && res->data && res->data[i]; ++i) {
    auto* p = reinterpret_cast<const std::uint8_t*>(res->data[i]);
    rdata.emplace_back(p, p + res->len[i]);
  }
  std::span<const std::uint8_t> packet;
  if (res->answer_packet && res->answer_len > 0)
    packet = {static_cast<const std::uint8_t*>(res->answer_packet), static_cast<std::size_t>(res->answer_len)};
  return classify_answer(qname, qtype, flags, packet, std::move(rdata));
}

}  // namespace

struct UnboundResolver::Pending {
  std::optional<Answer> answer;
  std::string qname;
  std::uint16_t qtype = 0;
  asio::steady_timer signal;
  explicit Pending(asio::any_io_executor ex) : signal(ex, asio::steady_timer::time_point::max()) {}
};

namespace {

struct CallbackData {
  std::shared_ptr<UnboundResolver::Pending> pending;
};

void on_result(void* mydata, int err, ub_result* result) {
  std::unique_ptr<CallbackData> data(static_cast<CallbackData*>(mydata));
  auto& p = *data->pending;
  if (err != 0 || !result) {
    Answer a;
    a.qname = p.qname;
    a.qtype = p.qtype;
    a.detail = fmt::format("resolver error: {}", ub_strerror(err));
    a.local_cause = err == UB_NOMEM ? "memory" : "resolver";
    p.answer = std::move(a);
  } else {
    p.answer = classify(result, p.qname, p.qtype);
  }
  if (result) ub_resolve_free(result);
  p.signal.cancel();
}

}  // namespace

UnboundResolver::UnboundResolver(asio::any_io_executor ex, const ResolverConfig& config, const UnboundTuning& tuning)
    : fd_(ex) {
  ctx_ = ub_ctx_create();
  if (!ctx_) throw ResolverError("cannot create the libunbound context");
  auto fail = [&](const std::string& msg) {
    ub_ctx_delete(ctx_);
    ctx_ = nullptr;
    throw ResolverError(msg);
  };
  auto set = [&](const char* opt, const std::string& val) {
    int rc = ub_ctx_set_option(ctx_, opt, val.c_str());
    if (rc != 0) fail(fmt::format("libunbound option {} {}: {}", opt, val, ub_strerror(rc)));
  };
  // Quiet unless asked: errors reach the user through Answer::detail and local
  // causes, not through libunbound's own lines on stderr (it prints errors and
  // warnings there even at verbosity 0).
  auto level = unbound_log_level();
  if (!level) fail(level.error());
  if (*level < 0) {
    ub_ctx_debuglevel(ctx_, 0);
    if (std::FILE* quiet = quiet_log()) ub_ctx_debugout(ctx_, quiet);
  } else {
    ub_ctx_debuglevel(ctx_, *level);
    ub_ctx_debugout(ctx_, stderr);
  }
  set("use-syslog:", "no");
  set("trust-anchor-signaling:", "no");
  set("val-log-level:", *level > 0 ? "2" : "0");
  if (tuning.outgoing_range > 0) set("outgoing-range:", std::to_string(tuning.outgoing_range));
  if (tuning.queries_per_thread > 0) set("num-queries-per-thread:", std::to_string(tuning.queries_per_thread));
  if (tuning.outgoing_tcp > 0) set("outgoing-num-tcp:", std::to_string(tuning.outgoing_tcp));
  if (!tuning.aggressive_nsec) set("aggressive-nsec:", "no");
  bool loopback = false;

  if (!config.trust_anchor_file.empty()) {
    auto bytes = read_zone_file(config.trust_anchor_file, "trust anchor");
    if (!bytes) fail(bytes.error());
    auto anchors = parse_trust_anchors(*bytes, config.trust_anchor_file);
    if (!anchors) fail(anchors.error());
    std::size_t usable = 0;
    for (const auto& rr : *anchors)
      if (ub_ctx_add_ta(ctx_, rr.text.c_str()) == 0) ++usable;
    if (usable == 0)
      fail(fmt::format("trust anchor file '{}' holds no DS or DNSKEY records", config.trust_anchor_file));
  } else {
    for (const char* ta : builtin_root_anchors) ub_ctx_add_ta(ctx_, ta);
  }

  if (!config.root_hints_file.empty()) {
    auto bytes = read_zone_file(config.root_hints_file, "root hints");
    if (!bytes) fail(bytes.error());
    auto hints = parse_root_hints(*bytes, config.root_hints_file);
    if (!hints) fail(hints.error());
    for (const auto& addr : hints->addresses)
      if (is_loopback(addr)) loopback = true;
    set("root-hints:", config.root_hints_file);
  }

  if (!config.forwarder.empty()) {
    if (auto err = validate_forwarder(config.forwarder); !err.empty()) fail(err);
    auto addr = config.forwarder.substr(0, config.forwarder.find('@'));
    if (is_loopback(addr)) loopback = true;
    int rc = ub_ctx_set_fwd(ctx_, config.forwarder.c_str());
    if (rc != 0) fail(fmt::format("--resolver {}: {}", config.forwarder, ub_strerror(rc)));
  }
  // libunbound will not query 127.0.0.0/8 or ::1 unless told (lab-notes trap 2).
  if (loopback) set("do-not-query-localhost:", "no");

  int rc = ub_ctx_async(ctx_, 1);
  if (rc != 0) fail(fmt::format("libunbound async mode: {}", ub_strerror(rc)));
}

UnboundResolver::~UnboundResolver() {
  boost::system::error_code ignored;
  if (fd_.is_open()) {
    fd_.cancel(ignored);
    fd_.release();  // the descriptor belongs to libunbound
  }
  if (ctx_) ub_ctx_delete(ctx_);
}

void UnboundResolver::start_reader() {
  if (reading_ || outstanding_ == 0) return;
  if (!fd_.is_open()) fd_.assign(ub_fd(ctx_));
  reading_ = true;
  fd_.async_wait(asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    reading_ = false;
    if (!ec) ub_process(ctx_);
    // Also after a cancel: a query may have started since (start_reader is a
    // no-op when nothing is outstanding).
    start_reader();
  });
}

asio::awaitable<Answer> UnboundResolver::resolve(std::string name, std::uint16_t type,
                                                 std::chrono::milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  auto pending = std::make_shared<Pending>(ex);
  pending->qname = name;
  pending->qtype = type;
  auto* data = new CallbackData{pending};
  int id = 0;
  int rc = ub_resolve_async(ctx_, name.c_str(), type, 1 /* IN */, data, on_result, &id);
  if (rc != 0) {
    delete data;
    Answer a;
    a.qname = name;
    a.qtype = type;
    a.detail = fmt::format("resolver error: {}", ub_strerror(rc));
    a.local_cause = rc == UB_NOMEM ? "memory" : "resolver";
    co_return a;
  }
  ++outstanding_;
  start_reader();
  if (!pending->answer) {
    pending->signal.expires_after(timeout);
    boost::system::error_code ec;
    co_await pending->signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  --outstanding_;
  if (outstanding_ == 0 && reading_) {
    boost::system::error_code ignored;
    fd_.cancel(ignored);
  }
  if (pending->answer) co_return std::move(*pending->answer);
  // Deadline: cancel the query. If libunbound already queued the result, the
  // callback still runs later and frees its data; otherwise we free it here.
  if (ub_cancel(ctx_, id) == 0) delete data;
  Answer a;
  a.qname = name;
  a.qtype = type;
  a.detail = fmt::format("no answer within {} ms", timeout.count());
  co_return a;
}

std::string validate_forwarder(const std::string& spec) {
  auto at = spec.find('@');
  std::string addr = spec.substr(0, at);
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, addr.c_str(), &v4) != 1 && inet_pton(AF_INET6, addr.c_str(), &v6) != 1)
    return fmt::format("--resolver '{}': '{}' is not an IPv4 or IPv6 address", spec, addr);
  if (at != std::string::npos) {
    auto port = spec.substr(at + 1);
    int value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return fmt::format("--resolver '{}': bad port '{}'", spec, port);
      value = value * 10 + (c - '0');
    }
    if (port.empty() || value < 1 || value > 65535) return fmt::format("--resolver '{}': port must be 1-65535", spec);
  }
  return {};
}

}  // namespace danekit
