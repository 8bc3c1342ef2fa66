// The engine: N shards, each one thread running one Asio event loop with its
// own libunbound context and TLS client context.
//
// - A domain runs on one shard (round robin) from start to report.
// - A DNS question (name, type) is owned by the shard its name hashes to: that
//   shard's cache answers it, merges it with an identical lookup in flight, or
//   asks its libunbound context. One cache for the process, no locks: every
//   entry is touched only by its owner's thread.
// - An SMTP session (address, port, SNI, HELO) is owned by the shard its
//   address hashes to, which also holds that address's politeness limit. The
//   chain it captured is authenticated by the asking domain's shard, offline,
//   against that domain's TLSA records (finish_probe).
// - Hopping to an owner is co_spawn(owner executor, ..., use_awaitable): the
//   caller resumes on its own loop with a copy of the value.
#include "danekit/engine.h"

#include <dirent.h>
#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <unordered_map>

#include "check/orchestrator.h"
#include "check/seams.h"
#include "danekit/pkix.h"
#include "dns/unbound/unbound_resolver.h"
#include "net/async_semaphore.h"
#include "net/smtp_probe.h"
#include "tls/openssl/smtp_tls.h"
#include "util/hex.h"

namespace danekit {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// A result some coroutines wait for, on the owner's loop.
struct Pending {
  explicit Pending(asio::any_io_executor ex) : done(std::move(ex), asio::steady_timer::time_point::max()) {}
  asio::steady_timer done;
  bool ready = false;
  asio::awaitable<void> wait() {
    if (ready) co_return;
    boost::system::error_code ec;
    co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  void notify() {
    ready = true;
    done.cancel();
  }
};

// Cache entries. `failed` entries (a lookup without an answer, a session cut
// short by a timeout, reset or close) made before the engine's fresh_after
// mark are not reused: the second look at a domain asks again.
struct DnsEntry {
  explicit DnsEntry(asio::any_io_executor ex) : pending(std::move(ex)) {}
  Pending pending;
  Answer answer;
  Steady::time_point expires{};
  Steady::time_point done{};
  bool failed = false;
};

struct SessionEntry {
  explicit SessionEntry(asio::any_io_executor ex) : pending(std::move(ex)) {}
  Pending pending;
  std::shared_ptr<const SmtpSession> session;
  Steady::time_point expires{};
  Steady::time_point done{};
  bool failed = false;
};

constexpr std::size_t max_cache_entries = 200000;  // per shard, each table
constexpr auto session_lifetime = std::chrono::hours(1);
constexpr auto failure_lifetime = std::chrono::seconds(10);
constexpr auto health_lifetime = std::chrono::seconds(5);

thread_local const void* current_shard = nullptr;

// Handshake values for HandshakeStore (danekit.session/1).
std::string serialize(const SmtpSession& s) {
  const auto& r = s.result;
  nlohmann::json chain = nlohmann::json::array();
  for (const auto& c : r.chain) chain.push_back(to_hex(c.der));
  nlohmann::json j = {{"schema", "danekit.session/1"},
                      {"outcome", to_string(r.outcome)},
                      {"stage", r.stage},
                      {"detail", r.detail},
                      {"banner", r.banner},
                      {"starttls", r.starttls_offered},
                      {"injection", r.plaintext_injection},
                      {"tls_version", r.tls_version},
                      {"cipher", r.cipher},
                      {"elapsed_ms", r.elapsed.count()},
                      {"tls", s.tls},
                      {"after_tls", s.after_tls},
                      {"chain", chain}};
  return j.dump();
}

std::optional<SmtpSession> deserialize(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    if (j.value("schema", "") != "danekit.session/1") return std::nullopt;
    SmtpSession s;
    auto& r = s.result;
    std::string outcome = j.at("outcome").get<std::string>();
    bool known = false;
    for (auto o : {Outcome::verified, Outcome::mismatch, Outcome::name_mismatch, Outcome::expired, Outcome::no_starttls,
                   Outcome::tls_failed, Outcome::unreachable, Outcome::encrypted, Outcome::not_checked}) {
      if (to_string(o) == outcome) {
        r.outcome = o;
        known = true;
      }
    }
    if (!known) return std::nullopt;
    r.stage = j.at("stage").get<std::string>();
    r.detail = j.at("detail").get<std::string>();
    r.banner = j.at("banner").get<std::string>();
    r.starttls_offered = j.at("starttls").get<bool>();
    r.plaintext_injection = j.at("injection").get<bool>();
    r.tls_version = j.at("tls_version").get<std::string>();
    r.cipher = j.at("cipher").get<std::string>();
    r.elapsed = milliseconds(j.at("elapsed_ms").get<std::int64_t>());
    s.tls = j.at("tls").get<bool>();
    s.after_tls = j.at("after_tls").get<std::string>();
    for (const auto& h : j.at("chain")) {
      auto der = from_hex(h.get<std::string>());
      if (!der) return std::nullopt;
      auto info = parse_certificate_der(*der);
      if (!info) return std::nullopt;
      r.chain.push_back(std::move(*info));
    }
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Reason local_reason(const std::string& cause) {
  Reason r;
  r.severity = Severity::error;
  r.code = "local-" + cause;
  if (cause == "descriptors") {
    r.text =
        "danekit could not finish this check: this process ran out of file descriptors. The result says nothing "
        "about the domain.";
    r.fix = "Raise the descriptor limit (ulimit -n) or lower --concurrency, then check again.";
  } else if (cause == "ports") {
    r.text =
        "danekit could not finish this check: this machine ran out of local ports or addresses for outgoing "
        "connections. The result says nothing about the domain.";
    r.fix = "Lower --concurrency or --per-ip, or widen net.ipv4.ip_local_port_range, then check again.";
  } else if (cause == "memory") {
    r.text =
        "danekit could not finish this check: this machine ran out of memory or socket buffers. The result says "
        "nothing about the domain.";
    r.fix = "Lower --concurrency, then check again.";
  } else if (cause == "network") {
    r.text =
        "danekit could not finish this check: this machine has no route to an address of the domain (network "
        "unreachable here, often IPv6 on an IPv4-only machine). The result says nothing about the domain.";
    r.fix = "Check this machine's routes, or check over one family only (-4 or -6), then check again.";
  } else if (cause == "resolver") {
    // The resolver self-test failed: the root is not reachable or does not validate.
    r.code = "resolver-unreachable";
    r.text =
        "danekit could not finish this check: the resolver it uses cannot reach the DNS root (no network, or an "
        "unreachable --resolver). The result says nothing about the domain.";
    r.fix =
        "Check this machine's network and the --resolver, --root-hints and --trust-anchor settings, then check "
        "again.";
  } else {
    r.code = "internal-error";
    r.text = fmt::format("danekit could not finish this check: {}. The result says nothing about the domain.", cause);
    r.fix = "Check again; if it persists, report it with this output.";
  }
  return r;
}

// A report that blames no one: what was learned is kept, the verdict is not.
CheckReport undetermined(CheckReport rep, const std::string& cause) {
  rep.verdict = Verdict::undetermined;
  rep.delivery = Delivery::unknown;
  rep.determined = false;
  std::vector<Reason> reasons{local_reason(cause)};
  for (auto& m : rep.mx) {
    std::vector<std::string> affected;
    for (auto& a : m.addresses) {
      if (a.local_cause.empty()) continue;
      a.outcome = Outcome::not_checked;
      a.detail = "not checked: " + a.detail;
      affected.push_back(a.address);
    }
    if (!affected.empty() && m.dane != HostDane::none) m.dane = HostDane::deferred;
  }
  // Every other finding may rest on the same local trouble (a DNS failure
  // read as the domain's): only the local cause is reported.
  for (auto& m : rep.mx) m.reasons.clear();
  rep.reasons = std::move(reasons);
  return rep;
}

// Did a failure that may be passing decide anything in this report: local
// trouble, a lookup without an answer, a session cut short by a timeout, reset
// or close? (A partial verdict can rest on one MX host's failed lookup.)
bool touched_by_failure(const CheckReport& r) {
  auto failed = [](const DnsStatus& d) {
    return d.kind == AnswerKind::failure && d.security == Security::indeterminate;
  };
  if (!r.determined || failed(r.mx_answer)) return true;
  if (r.mta_sts.checked &&
      (failed(r.mta_sts.record_dns) || r.mta_sts.fetch == "timeout" || r.mta_sts.fetch == "connect-failed"))
    return true;
  if (r.tls_rpt.checked && failed(r.tls_rpt.dns)) return true;
  for (const auto& m : r.mx) {
    for (const auto& a : m.sts_sessions)
      if (a.failure == "timeout" || a.failure == "reset" || a.failure == "closed" || !a.local_cause.empty())
        return true;
    for (const auto& d : m.dns)
      if (failed(d)) return true;
    for (const auto& a : m.addresses)
      if (a.failure == "timeout" || a.failure == "reset" || a.failure == "closed" || !a.local_cause.empty())
        return true;
  }
  return false;
}

}  // namespace

struct Shard {
  explicit Shard(unsigned i) : index(i), io(1) {}
  unsigned index;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
  std::unique_ptr<UnboundResolver> ub;
  std::unique_ptr<asio::ssl::context> tls;  // made on first use
  std::unique_ptr<AsyncSemaphore> dns_slots;
  std::unique_ptr<AsyncSemaphore> connections;
  std::unordered_map<std::string, std::shared_ptr<DnsEntry>> dns;
  std::unordered_map<std::string, std::shared_ptr<SessionEntry>> sessions;
  std::unordered_map<std::string, std::unique_ptr<AsyncSemaphore>> per_ip;
  // Resolver health (shard 0 only).
  std::shared_ptr<Pending> health_pending;
  Steady::time_point health_at{};
  bool healthy = true;
};

struct Engine::Impl : Resolver, Prober {
  EngineOptions options;
  EngineLimits limits;
  std::vector<std::unique_ptr<Shard>> shards;
  SystemClock clock;
  std::shared_ptr<const PkixTrust> pkix;  // the Web PKI store for MTA-STS (system + --ca-file)
  std::unique_ptr<asio::thread_pool> store_pool;
  std::mt19937_64 rng{std::random_device{}()};

  std::atomic<std::uint64_t> domains{0}, dns_lookups{0}, dns_shared{0}, handshakes{0}, handshakes_shared{0},
      local_retries{0}, second_looks{0};

  // Failed cache entries and resolver self-tests older than this are not
  // reused (set when a second look begins; steady-clock ticks).
  std::atomic<Steady::rep> fresh_after{0};
  bool stale_failure(bool failed, Steady::time_point done) const {
    return failed && done.time_since_epoch().count() < fresh_after.load();
  }

  // Detached work (prefetches) still running; the destructor waits for it.
  std::mutex detached_mutex;
  std::condition_variable detached_cv;
  std::size_t detached = 0;

  Shard& owner(std::string_view key) { return *shards[fnv1a(key) % shards.size()]; }

  template <class T>
  asio::awaitable<T> on(Shard& s, asio::awaitable<T> work) {
    if (current_shard == &s) co_return co_await std::move(work);
    co_return co_await asio::co_spawn(s.io.get_executor(), std::move(work), asio::use_awaitable);
  }

  // ---- DNS -----------------------------------------------------------------

  asio::awaitable<Answer> resolve(std::string name, std::uint16_t type, milliseconds timeout) override {
    Shard& s = owner(name);
    co_return co_await on(s, owned_lookup(s, std::move(name), type, timeout));
  }

  void prefetch(const std::string& name, std::uint16_t type, milliseconds timeout) override {
    {
      std::lock_guard l(detached_mutex);
      ++detached;
    }
    Shard& s = owner(name);
    asio::co_spawn(s.io, owned_lookup(s, name, type, timeout), [this](std::exception_ptr, Answer) {
      std::lock_guard l(detached_mutex);
      if (--detached == 0) detached_cv.notify_all();
    });
  }

  // The entry for `key` in one of a shard's caches: an existing one that is
  // fresh or still being made (mine = false: wait on it, read it), or a new
  // one that the caller must fill and notify (mine = true).
  template <class Table>
  auto claim(Shard& s, Table& table, const std::string& key) {
    using Entry = typename Table::mapped_type::element_type;
    if (auto it = table.find(key); it != table.end()) {
      const auto& e = *it->second;
      if (!e.pending.ready || (e.expires > Steady::now() && !stale_failure(e.failed, e.done)))
        return std::pair{it->second, false};
      table.erase(it);
    }
    sweep(table);
    auto e = std::make_shared<Entry>(s.io.get_executor());
    table[key] = e;
    return std::pair{e, true};
  }

  static void sweep(auto& table) {
    if (table.size() < max_cache_entries) return;
    auto now = Steady::now();
    std::erase_if(table, [&](const auto& kv) { return kv.second->pending.ready && kv.second->expires <= now; });
    if (table.size() >= max_cache_entries)
      std::erase_if(table, [](const auto& kv) { return kv.second->pending.ready; });
  }

  asio::awaitable<Answer> owned_lookup(Shard& s, std::string name, std::uint16_t type, milliseconds timeout) {
    std::string key = fmt::format("{}/{}", name, type);
    auto [e, mine] = claim(s, s.dns, key);
    if (!mine) {
      ++dns_shared;
      co_await e->pending.wait();
      co_return e->answer;
    }
    Answer a;
    {
      co_await s.dns_slots->acquire();
      SemaphoreSlot slot(*s.dns_slots);
      a = co_await s.ub->resolve(name, type, timeout);
    }
    ++dns_lookups;
    // A lookup that failed without a verdict (timeout, SERVFAIL) is the
    // domain's problem only if the resolver itself works.
    if (a.security == Security::indeterminate && a.local_cause.empty() && !co_await resolver_healthy()) {
      a.local_cause = "resolver";
    }
    e->answer = a;
    std::uint32_t ttl = a.kind == AnswerKind::data ? a.ttl : (a.negative_ttl ? a.negative_ttl : a.ttl);
    auto life = a.failed() ? std::chrono::seconds(failure_lifetime)
                           : std::chrono::seconds(std::clamp<std::uint32_t>(ttl, 5, 3600));
    e->expires = Steady::now() + life;
    e->done = Steady::now();
    e->failed = a.security == Security::indeterminate;
    e->pending.notify();
    if (!a.local_cause.empty()) s.dns.erase(key);  // never keep our own trouble
    co_return a;
  }

  // Can the resolver reach the root? A name no cache holds (aggressive NSEC is
  // off) must come back as a validated NXDOMAIN.
  asio::awaitable<bool> resolver_healthy() {
    Shard& s = *shards[0];
    co_return co_await on(s, owned_health_check(s));
  }

  asio::awaitable<bool> owned_health_check(Shard& s) {
    if (s.health_pending && !s.health_pending->ready) {
      auto p = s.health_pending;
      co_await p->wait();
      co_return s.healthy;
    }
    if (s.health_pending && Steady::now() - s.health_at < health_lifetime &&
        s.health_at.time_since_epoch().count() >= fresh_after.load())
      co_return s.healthy;
    auto p = std::make_shared<Pending>(s.io.get_executor());
    s.health_pending = p;
    auto label = fmt::format("danekit-canary-{:016x}", rng());
    Answer a = co_await s.ub->resolve(label, rrtype::SOA, milliseconds(5000));
    s.healthy = a.security != Security::indeterminate && a.security != Security::bogus;
    s.health_at = Steady::now();
    p->notify();
    co_return s.healthy;
  }

  // ---- SMTP sessions ---------------------------------------------------------

  asio::awaitable<ProbeResult> probe(ProbeRequest req, std::int64_t at) override {
    Shard& s = owner(req.address);
    auto session = co_await on(s, owned_session(s, req));
    ProbeResult r = finish_probe(*session, req, at);
    if (!req.pkix_name.empty() && pkix) {
      auto j = pkix->judge(r.chain, req.pkix_name, r.tls_version, at);
      r.pkix = j.pkix;
      r.pkix_detail = std::move(j.detail);
    }
    co_return r;
  }

  // ---- MTA-STS policy fetches ------------------------------------------------

  asio::awaitable<HttpsFetchResult> fetch(HttpsFetchRequest req) override {
    Shard& s = owner(req.host);
    co_return co_await on(s, owned_fetch(s, std::move(req)));
  }

  asio::awaitable<HttpsFetchResult> owned_fetch(Shard& s, HttpsFetchRequest req) {
    co_await s.connections->acquire();
    SemaphoreSlot slot(*s.connections);
    co_return co_await https_fetch(std::move(req));
  }

  asio::awaitable<std::shared_ptr<const SmtpSession>> owned_session(Shard& s, ProbeRequest req) {
    std::string key = fmt::format("{}|{}|{}|{}|{}|{}", req.address, req.port, req.implicit_tls ? "tls" : "starttls",
                                  req.tlsa_base, req.helo, req.sigalgs);
    auto [e, mine] = claim(s, s.sessions, key);
    if (!mine) {
      ++handshakes_shared;
      co_await e->pending.wait();
      co_return e->session;
    }

    std::shared_ptr<const SmtpSession> result;
    if (options.handshakes) {
      auto stored = co_await asio::co_spawn(*store_pool, store_acquire(options.handshakes, key), asio::use_awaitable);
      if (stored) {
        if (auto v = deserialize(*stored)) {
          ++handshakes_shared;
          result = std::make_shared<const SmtpSession>(std::move(*v));
        }
      }
    }
    if (!result) {
      SmtpSession session = co_await connect_with_retries(s, req);
      ++handshakes;
      result = std::make_shared<const SmtpSession>(std::move(session));
      if (options.handshakes && result->result.local_cause.empty()) {
        co_await asio::co_spawn(*store_pool, store_save(options.handshakes, key, serialize(*result)),
                                asio::use_awaitable);
      }
    }
    e->session = result;
    e->expires = Steady::now() + session_lifetime;
    e->done = Steady::now();
    e->failed = !result->result.failure.empty();
    e->pending.notify();
    if (!result->result.local_cause.empty()) s.sessions.erase(key);
    co_return result;
  }

  // Blocking store calls, run on the store pool (no captures: GCC 12 mishandles
  // lambda coroutines' captures).
  static asio::awaitable<std::optional<std::string>> store_acquire(std::shared_ptr<HandshakeStore> store,
                                                                   std::string key) {
    co_return store->acquire(key);
  }
  static asio::awaitable<void> store_save(std::shared_ptr<HandshakeStore> store, std::string key, std::string value) {
    store->save(key, value);
    co_return;
  }

  asio::awaitable<SmtpSession> connect_with_retries(Shard& s, const ProbeRequest& req) {
    if (!s.tls) {
      SSL_CTX* shared = tls::shared_client_context();
      if (shared)
        s.tls = std::make_unique<asio::ssl::context>(shared);
      else
        throw std::runtime_error("cannot create an OpenSSL context: " + tls::error_queue());
    }
    static constexpr milliseconds backoff[] = {milliseconds(200), milliseconds(1000), milliseconds(3000)};
    auto& per_ip = s.per_ip[req.address];
    if (!per_ip) per_ip = std::make_unique<AsyncSemaphore>(s.io.get_executor(), limits.per_ip);
    AsyncSemaphore& ip_slots = *per_ip;
    SmtpSession session;
    for (std::size_t attempt = 0;; ++attempt) {
      {
        co_await ip_slots.acquire();
        SemaphoreSlot ip_slot(ip_slots);
        co_await s.connections->acquire();
        SemaphoreSlot conn_slot(*s.connections);
        session = co_await smtp_session(*s.tls, req);
      }
      if (session.result.local_cause.empty() || attempt == std::size(backoff)) break;
      ++local_retries;
      asio::steady_timer t(s.io.get_executor(), backoff[attempt]);
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ip_slots.idle()) s.per_ip.erase(req.address);
    co_return session;
  }

  // ---- domains -------------------------------------------------------------

  asio::awaitable<CheckReport> check_one(std::string domain) {
    static constexpr milliseconds backoff[] = {milliseconds(1000), milliseconds(4000)};
    for (std::size_t attempt = 0;; ++attempt) {
      DomainResult r;
      std::string failure;
      try {
        r = co_await check_domain(domain, *this, *this, clock, options.check);
      } catch (const std::exception& e) {
        failure = *e.what() ? e.what() : "unnamed exception";
      } catch (...) {
        failure = "unknown exception";
      }
      if (!failure.empty()) {
        CheckReport rep;
        rep.domain = domain;
        rep.checked_at = clock.now();
        ++domains;
        co_return undetermined(std::move(rep), failure);
      }
      if (r.local_cause.empty()) {
        ++domains;
        co_return std::move(r.report);
      }
      // Exhaustion passes; a resolver that cannot reach the root was just
      // asked (the health check) and will not be back in a second.
      if (attempt == std::size(backoff) || r.local_cause == "resolver") {
        ++domains;
        co_return undetermined(std::move(r.report), r.local_cause);
      }
      ++local_retries;
      asio::steady_timer t(co_await asio::this_coro::executor, backoff[attempt]);
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
};

namespace {

// Descriptors: raise the soft limit to the hard limit, return what we have.
std::size_t descriptor_budget() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max == RLIM_INFINITY ? std::max<rlim_t>(rl.rlim_cur, 1 << 20) : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  if (rl.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<std::size_t>(rl.rlim_cur);
}

// Descriptors open right now (stdin/out/err, files the caller holds).
std::size_t open_descriptors() {
  std::size_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) && n < (1u << 20)) ++n;
    closedir(d);
    return n > 3 ? n - 3 : 0;  // ".", ".." and the directory's own descriptor
  }
  return 8;
}

}  // namespace

Engine::Engine(const EngineOptions& options) : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  I.options = options;
  EngineLimits& L = I.limits;
  L = options.limits;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (L.threads == 0) L.threads = cores;
  L.threads = std::min(L.threads, 64u);
  if (options.check.mta_sts) {
    auto trust = PkixTrust::load(options.check.ca_file);
    if (!trust) throw ResolverError(trust.error());
    I.pkix = *trust;
  }

  // Descriptor plan: what is open already and a reserve for the process
  // (output, state, libunbound's pipes), a share for libunbound's sockets, the
  // rest for SMTP connections. Below the minimum, libunbound itself would run
  // out of sockets and every lookup would look like the domain's failure, so
  // the engine refuses to start.
  std::size_t fds = descriptor_budget();
  std::size_t used = open_descriptors();
  std::size_t reserve = used + 16 + 8 * L.threads;
  std::size_t minimum = reserve + 16 * L.threads + 8;
  if (fds < minimum)
    throw ResolverError(
        fmt::format("the descriptor limit ({}) is too low: danekit needs at least {} here; raise it "
                    "with ulimit -n",
                    fds, minimum));
  std::size_t spare = fds - reserve;
  std::size_t dns_fds = std::clamp<std::size_t>(spare / 4, 8 * L.threads, 4096);
  std::size_t conn_budget = spare - dns_fds;
  if (L.connections == 0) L.connections = std::min<std::size_t>(conn_budget, 4096);
  L.connections = std::max<std::size_t>(std::min(L.connections, conn_budget), L.threads);
  if (L.per_ip == 0) L.per_ip = 8;
  if (L.dns_in_flight == 0) L.dns_in_flight = 4096;
  L.dns_in_flight = std::max<std::size_t>(L.dns_in_flight, L.threads);
  if (L.domains_in_flight == 0) L.domains_in_flight = std::clamp<std::size_t>(L.connections, 8, 1024);

  UnboundTuning tuning;
  tuning.outgoing_range = static_cast<int>(std::max<std::size_t>(dns_fds / L.threads, 8));
  tuning.queries_per_thread = static_cast<int>(L.dns_in_flight / L.threads + 64);
  tuning.outgoing_tcp = 32;
  tuning.aggressive_nsec = false;  // the health canary needs uncached names

  for (unsigned i = 0; i < L.threads; ++i) {
    auto s = std::make_unique<Shard>(i);
    s->ub = std::make_unique<UnboundResolver>(s->io.get_executor(), options.check.resolver, tuning);
    s->dns_slots = std::make_unique<AsyncSemaphore>(s->io.get_executor(), L.dns_in_flight / L.threads);
    s->connections =
        std::make_unique<AsyncSemaphore>(s->io.get_executor(), std::max<std::size_t>(1, L.connections / L.threads));
    I.shards.push_back(std::move(s));
  }
  if (options.handshakes) I.store_pool = std::make_unique<asio::thread_pool>(4);
  for (auto& s : I.shards) {
    s->guard.emplace(s->io.get_executor());
    Shard* p = s.get();
    s->thread = std::thread([p] {
      current_shard = p;
      p->io.run();
    });
  }
}

Engine::~Engine() {
  auto& I = *impl_;
  {
    std::unique_lock l(I.detached_mutex);
    I.detached_cv.wait(l, [&] { return I.detached == 0; });
  }
  for (auto& s : I.shards) s->guard.reset();
  for (auto& s : I.shards) {
    s->io.stop();
    if (s->thread.joinable()) s->thread.join();
  }
  if (I.store_pool) I.store_pool->join();
  // Caches hold timers of their own loop: empty them before the loops go.
  for (auto& s : I.shards) {
    s->dns.clear();
    s->sessions.clear();
    s->per_ip.clear();
    s->health_pending.reset();
  }
}

const EngineLimits& Engine::limits() const { return impl_->limits; }

EngineStats Engine::stats() const {
  EngineStats st;
  st.domains = impl_->domains;
  st.dns_lookups = impl_->dns_lookups;
  st.dns_shared = impl_->dns_shared;
  st.handshakes = impl_->handshakes;
  st.handshakes_shared = impl_->handshakes_shared;
  st.local_retries = impl_->local_retries;
  st.second_looks = impl_->second_looks;
  return st;
}

// Second looks. A report touched by failures (lookups or sessions that timed
// out or failed, or local trouble) while many domains were in flight may
// be the engine's own load on the servers it asks: the lab's one name server
// for 3,000 zones, a provider's MX pool behind one machine, this process's
// resolver. Such a domain is held back and checked once more when the load is
// low: when the input ends, or when the held reports reach a bound, the engine
// lets the domains in flight finish and checks the held ones with a small
// window, asking again every lookup and session that failed before. The second
// report is the one delivered. A domain checked under low load the first time
// is reported as it is: its failures were not the engine's doing.
void Engine::run(const Source& source, const Sink& sink) {
  auto& I = *impl_;
  std::mutex m;
  std::condition_variable cv;
  std::size_t in_flight = 0;
  bool stop = false;
  std::exception_ptr failure;
  std::mutex sink_mutex;
  std::size_t next = 0;
  const std::size_t window = I.limits.domains_in_flight;
  const std::size_t quiet = std::min(window, std::max<std::size_t>(32, window / 8));
  const std::size_t max_held = std::max<std::size_t>(1024, 4 * window);
  std::vector<Item> held;  // guarded by m

  auto wait_idle = [&] {
    std::unique_lock l(m);
    cv.wait(l, [&] { return in_flight == 0; });
  };
  auto deliver = [&](const Item& item, std::exception_ptr e, CheckReport report) {
    std::lock_guard sl(sink_mutex);
    bool stopped;
    {
      std::lock_guard l(m);
      stopped = stop;
    }
    if (stopped) return;
    try {
      if (e) std::rethrow_exception(e);
      sink(item, std::move(report));
    } catch (...) {
      std::lock_guard l(m);
      if (!failure) failure = std::current_exception();
      stop = true;
    }
  };
  // Starts one domain; `second` marks a second look (always delivered).
  auto launch = [&](Item item, bool second) {
    std::size_t load;
    {
      std::lock_guard l(m);
      load = ++in_flight;
    }
    Shard& s = *I.shards[next++ % I.shards.size()];
    auto work = I.check_one(item.domain);  // before `item` moves into the handler
    asio::co_spawn(s.io, std::move(work),
                   [&, load, second, item = std::move(item)](std::exception_ptr e, CheckReport report) mutable {
                     bool hold = false;
                     {
                       std::lock_guard l(m);
                       hold = !second && !e && touched_by_failure(report) && std::max(load, in_flight) > quiet;
                       if (hold) held.push_back(std::move(item));
                     }
                     if (!hold) deliver(item, e, std::move(report));
                     std::lock_guard l(m);
                     --in_flight;
                     cv.notify_all();
                   });
  };
  auto second_looks = [&] {
    wait_idle();
    std::vector<Item> batch;
    {
      std::lock_guard l(m);
      batch.swap(held);
      if (stop) return;
    }
    if (batch.empty()) return;
    I.fresh_after = Steady::now().time_since_epoch().count();
    I.second_looks += batch.size();
    for (auto& item : batch) {
      {
        std::unique_lock l(m);
        cv.wait(l, [&] { return in_flight < quiet || stop; });
        if (stop) break;
      }
      launch(std::move(item), true);
    }
    wait_idle();
  };

  while (true) {
    bool full;
    {
      std::unique_lock l(m);
      cv.wait(l, [&] { return in_flight < window || stop; });
      if (stop) break;
      full = held.size() >= max_held;
    }
    if (full) second_looks();
    std::optional<Item> item;
    try {
      item = source();
    } catch (...) {
      wait_idle();
      throw;
    }
    if (!item) break;
    launch(std::move(*item), false);
    // While the first domain's lookups start on its shard, this thread makes
    // the TLS context the probes will need (SSL_CTX_new is not cheap).
    if (next == 1) SSL_CTX_free(tls::shared_client_context());
  }
  second_looks();
  wait_idle();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace danekit
