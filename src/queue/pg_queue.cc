// PgQueue: the scan queue on PostgreSQL through libpq's asynchronous API.
// The schema and the life of a claim are in docs/scaling.md.
#include "queue/pg_queue.h"
#include "danekit/version.h"

#include <libpq-fe.h>

#include <fmt/format.h>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace danekit::queue {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server
// running...?"); ours are one line.
std::string one_line(std::string s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// The connection is gone (or never came): reconnect and retry, or give up.
struct ConnLost : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The server refused the statement.
struct SqlError : std::runtime_error {
  SqlError(std::string state, const std::string& message) : std::runtime_error(message), sqlstate(std::move(state)) {}
  std::string sqlstate;
  bool transient() const { return sqlstate == "40001" || sqlstate == "40P01"; }  // serialization, deadlock
};

using Param = std::optional<std::string>;
using Params = std::vector<Param>;
using Row = std::vector<std::optional<std::string>>;
using RowFn = std::function<void(const Row&)>;
struct Result {
  std::vector<Row> rows;
  std::uint64_t affected = 0;
};

struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultFree>;

// A FIFO lock for coroutines on one event loop: one statement at a time per
// connection.
class AsyncLock {
 public:
  explicit AsyncLock(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  asio::awaitable<void> lock() {
    if (!held_) {
      held_ = true;
      co_return;
    }
    auto t = std::make_shared<asio::steady_timer>(ex_, Clock::time_point::max());
    waiters_.push_back(t);
    boost::system::error_code ec;
    co_await t->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    // unlock() handed the lock over: held_ stays true.
  }
  void unlock() {
    if (waiters_.empty()) {
      held_ = false;
      return;
    }
    auto t = waiters_.front();
    waiters_.pop_front();
    t->cancel();
  }

 private:
  asio::any_io_executor ex_;
  bool held_ = false;
  std::deque<std::shared_ptr<asio::steady_timer>> waiters_;
};

// One libpq connection driven from the event loop.
class Conn {
 public:
  Conn(asio::any_io_executor ex, std::string url, const QueueSettings& s)
      : lock(ex), sd_(ex), url_(std::move(url)), settings_(s) {}
  ~Conn() { close(); }

  bool ok() const { return pg_ && PQstatus(pg_) == CONNECTION_OK; }
  bool in_transaction() const { return pg_ && PQtransactionStatus(pg_) != PQTRANS_IDLE; }

  void close() {
    if (sd_.is_open()) {
      boost::system::error_code ignored;
      sd_.cancel(ignored);
      sd_.release();  // the descriptor belongs to libpq
    }
    if (pg_) PQfinish(pg_);
    pg_ = nullptr;
  }

  asio::awaitable<void> connect() {
    close();
    auto secs =
        std::max<long long>(1, std::chrono::duration_cast<std::chrono::seconds>(settings_.connect_timeout).count());
    std::string timeout = std::to_string(secs);
    // Our defaults come before dbname: what the URL says overrides them.
    const char* keys[] = {"connect_timeout", "application_name", "keepalives", "keepalives_idle", "dbname", nullptr};
    const char* values[] = {timeout.c_str(), "danekit", "1", "30", url_.c_str(), nullptr};
    pg_ = PQconnectStartParams(keys, values, 1);
    if (!pg_) throw ConnLost("out of memory");
    if (PQstatus(pg_) == CONNECTION_BAD) throw ConnLost(error_message());
    auto deadline = Clock::now() + settings_.connect_timeout;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
      if (st == PGRES_POLLING_FAILED) throw ConnLost(error_message());
      // libpq may open a new socket at every step (another address or host).
      reassign();
      bool read = st == PGRES_POLLING_READING;
      if (!co_await wait(read ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write,
                         deadline))
        throw ConnLost(fmt::format("no connection within {} s", secs));
      st = PQconnectPoll(pg_);
    }
    reassign();
    if (PQsetnonblocking(pg_, 1) != 0) throw ConnLost(error_message());
    auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()); };
    co_await exec(fmt::format("SET statement_timeout = {}; SET lock_timeout = {}; "
                              "SET idle_in_transaction_session_timeout = {}",
                              ms(settings_.statement_timeout), ms(settings_.statement_timeout),
                              ms(settings_.statement_timeout * 2)),
                  {});
  }

  // Runs one statement (several, without parameters) and returns all rows, or
  // hands each row to `each` as it arrives (single-row mode).
  // By value: the frame owns them, whatever the caller's temporaries do.
  asio::awaitable<Result> exec(std::string sql, Params params, const RowFn* each = nullptr) {
    if (!ok()) throw ConnLost("not connected");
    auto limit = settings_.statement_timeout + 5s;
    auto deadline = Clock::now() + limit;
    auto timeout = [&] {
      auto text = fmt::format("no answer within {} s", std::chrono::duration_cast<std::chrono::seconds>(limit).count());
      close();
      return ConnLost(text);
    };
    int sent = 0;
    if (params.empty() && !each) {
      sent = PQsendQuery(pg_, sql.c_str());
    } else {
      std::vector<const char*> values;
      for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
      sent = PQsendQueryParams(pg_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                               nullptr, 0);
    }
    if (!sent) throw lost();
    if (each) PQsetSingleRowMode(pg_);
    while (true) {
      int f = PQflush(pg_);
      if (f == 0) break;
      if (f < 0) throw lost();
      // Wait to write, but keep reading what the server sends meanwhile.
      bool ready = co_await wait(asio::posix::stream_descriptor::wait_write, std::min(deadline, Clock::now() + 100ms));
      if (!ready && Clock::now() >= deadline) throw timeout();
      if (!PQconsumeInput(pg_)) throw lost();
    }
    Result out;
    std::optional<SqlError> error;
    std::exception_ptr callback_error;
    while (true) {
      while (PQisBusy(pg_)) {
        if (!co_await wait(asio::posix::stream_descriptor::wait_read, deadline)) throw timeout();
        if (!PQconsumeInput(pg_)) throw lost();
      }
      ResultPtr r(PQgetResult(pg_));
      if (!r) break;
      switch (PQresultStatus(r.get())) {
        case PGRES_TUPLES_OK:
        case PGRES_SINGLE_TUPLE: {
          int rows = PQntuples(r.get()), cols = PQnfields(r.get());
          for (int i = 0; i < rows; ++i) {
            Row row;
            for (int j = 0; j < cols; ++j) {
              if (PQgetisnull(r.get(), i, j)) {
                row.emplace_back();
              } else {
                row.emplace_back(std::string(PQgetvalue(r.get(), i, j), PQgetlength(r.get(), i, j)));
              }
            }
            if (!each) {
              out.rows.push_back(std::move(row));
            } else if (!callback_error) {
              try {
                (*each)(row);
              } catch (...) {
                callback_error = std::current_exception();
              }
            }
          }
          ++out.affected;
          break;
        }
        case PGRES_COMMAND_OK: {
          const char* n = PQcmdTuples(r.get());
          if (n && *n) out.affected = std::strtoull(n, nullptr, 10);
          break;
        }
        default: {
          if (!error) {
            const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
            error.emplace(state ? state : "", one_line(PQresultErrorMessage(r.get())));
          }
        }
      }
    }
    if (!ok()) {
      auto text = error ? std::string(error->what()) : error_message();
      close();
      throw ConnLost(text);
    }
    if (error) throw *error;
    if (callback_error) std::rethrow_exception(callback_error);
    co_return out;
  }

  AsyncLock lock;

 private:
  struct WaitState {
    bool done = false, timed_out = false;
  };

  std::string error_message() const {
    auto m = one_line(pg_ ? PQerrorMessage(pg_) : "out of memory");
    return m.empty() ? "connection failed" : m;
  }
  ConnLost lost() {
    auto m = error_message();
    close();
    return ConnLost(m);
  }

  void reassign() {
    if (sd_.is_open()) sd_.release();
    int fd = PQsocket(pg_);
    if (fd >= 0) sd_.assign(fd);
  }

  // Waits until the socket is ready or the deadline passes (false).
  asio::awaitable<bool> wait(asio::posix::stream_descriptor::wait_type what, Clock::time_point deadline) {
    if (!sd_.is_open() || Clock::now() >= deadline) co_return false;
    auto state = std::make_shared<WaitState>();
    asio::steady_timer timer(sd_.get_executor(), deadline);
    timer.async_wait([state, this](boost::system::error_code ec) {
      if (ec || state->done) return;
      state->timed_out = true;
      boost::system::error_code ignored;
      sd_.cancel(ignored);
    });
    boost::system::error_code ec;
    co_await sd_.async_wait(what, asio::redirect_error(asio::use_awaitable, ec));
    state->done = true;
    timer.cancel();
    co_return !state->timed_out;
  }

  PGconn* pg_ = nullptr;
  asio::posix::stream_descriptor sd_;
  std::string url_;
  QueueSettings settings_;
};

// A PostgreSQL array literal of text values.
std::string text_array(std::vector<std::string>::const_iterator begin, std::vector<std::string>::const_iterator end) {
  std::string out = "{";
  for (auto it = begin; it != end; ++it) {
    if (it != begin) out += ',';
    out += '"';
    for (char c : *it) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string id_array(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "}";
}

// Statement parameters. (GCC 12 cannot compile a braced list inside a co_await
// expression: "array used as initializer".)
template <class... A>
Params P(A&&... a) {
  Params p;
  (p.emplace_back(std::forward<A>(a)), ...);
  return p;
}

std::uint64_t to_u64(const std::optional<std::string>& v) { return v ? std::strtoull(v->c_str(), nullptr, 10) : 0; }

// Version 1. Names are documented in docs/scaling.md; a later version adds a
// migration here and never edits this one.
constexpr const char* migration_1 = R"sql(
CREATE TABLE danekit.scan_run (
  run         text PRIMARY KEY,
  options_key text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE danekit.scan_domain (
  id          bigserial PRIMARY KEY,
  run         text NOT NULL REFERENCES danekit.scan_run (run) ON DELETE CASCADE,
  domain      text NOT NULL,
  state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'leased', 'done', 'failed')),
  attempts    integer NOT NULL DEFAULT 0,
  leased_by   text,
  lease_until timestamptz,
  result      text,
  done_by     text,
  done_at     timestamptz,
  UNIQUE (run, domain)
);
CREATE INDEX scan_domain_open ON danekit.scan_domain (run, id) WHERE state IN ('pending', 'leased');
CREATE INDEX scan_domain_leased ON danekit.scan_domain (leased_by) WHERE state = 'leased';
CREATE TABLE danekit.scan_worker (
  run         text NOT NULL REFERENCES danekit.scan_run (run) ON DELETE CASCADE,
  worker      text NOT NULL,
  options_key text,
  state       text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'finished', 'stopped')),
  started_at  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now(),
  domains     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (run, worker)
);
CREATE TABLE danekit.scan_handshake (
  run         text NOT NULL REFERENCES danekit.scan_run (run) ON DELETE CASCADE,
  key         text NOT NULL,
  value       text,
  claimed_by  text,
  claim_until timestamptz,
  saved_by    text,
  saved_at    timestamptz,
  served      integer NOT NULL DEFAULT 0,
  PRIMARY KEY (run, key)
);
)sql";

const char* migration(int version) {
  switch (version) {
    case 1: return migration_1;
  }
  throw std::logic_error("no migration to version " + std::to_string(version));
}

// pg_advisory_xact_lock key for schema changes: "danekit" in ASCII.
constexpr const char* schema_lock_key = "28542640894207348";

}  // namespace

struct PgQueue::Impl {
  // Declared first: destroyed last, after the connections registered on it.
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  QueueSettings settings;
  std::unique_ptr<Conn> main, hs;
  std::optional<asio::steady_timer> beat;
  bool stopping = false;
  std::thread thread;
  struct {
    std::atomic<std::uint64_t> acquires{0}, hits{0}, waits{0}, claims{0}, saves{0}, errors{0};
  } hs_stats;
  std::mutex hs_error_mutex;
  bool hs_error_told = false;

  Impl(const std::string& url, const QueueSettings& s) : work(io.get_executor()), settings(s) {
    main = std::make_unique<Conn>(io.get_executor(), url, s);
    hs = std::make_unique<Conn>(io.get_executor(), url, s);
    thread = std::thread([this] { io.run(); });
  }
  ~Impl() {
    asio::post(io, [this] {
      stopping = true;
      if (beat) beat->cancel();
      work.reset();
    });
    thread.join();
    main.reset();
    hs.reset();
  }

  // Runs a coroutine on the queue's thread and waits for it. Every wait inside
  // is bounded, so this returns.
  template <class T>
  T call(std::function<asio::awaitable<T>()> f) {
    auto p = std::make_shared<std::promise<T>>();
    auto fut = p->get_future();
    asio::co_spawn(
        io,
        [p, f = std::move(f)]() -> asio::awaitable<void> {
          try {
            p->set_value(co_await f());
          } catch (...) {
            p->set_exception(std::current_exception());
          }
        },
        asio::detached);
    return fut.get();
  }

  // Runs `fn` with the connection to itself, connecting first if need be. A
  // lost connection is re-opened and `fn` run again until `retry_for` has
  // passed (not at all when !retry); then QueueFailure::unavailable.
  template <class T>
  asio::awaitable<T> with(Conn& c, const std::function<asio::awaitable<T>(Conn&)>& fn, bool retry = true) {
    co_await c.lock.lock();
    struct Unlock {
      Conn& c;
      ~Unlock() { c.lock.unlock(); }
    } unlock{c};
    auto give_up = Clock::now() + (retry ? settings.retry_for : 0ms);
    auto pause = 250ms;
    while (true) {
      std::string problem;
      bool sql_error = false, transient = false;
      std::exception_ptr other;
      try {
        if (!c.ok()) co_await c.connect();
        co_return co_await fn(c);
      } catch (const ConnLost& e) {
        problem = e.what();
      } catch (const SqlError& e) {
        problem = e.what();
        sql_error = true;
        transient = e.transient();
      } catch (...) {
        other = std::current_exception();
      }
      // Never leave a transaction open on the connection for the next caller.
      if (c.ok() && c.in_transaction()) {
        try {
          co_await c.exec("ROLLBACK", {});
        } catch (const std::exception&) {
          c.close();
        }
      }
      if (other) std::rethrow_exception(other);
      if (sql_error && !transient) throw QueueFailure(QueueFailure::Kind::failed, problem);
      if (Clock::now() + pause > give_up) throw QueueFailure(QueueFailure::Kind::unavailable, problem);
      asio::steady_timer t(io, pause);
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      pause = std::min(pause * 2, 4000ms);
    }
  }

  asio::awaitable<Result> query(Conn& c, std::string sql, Params params, bool retry = true) {
    // Named, not temporaries: GCC 12 mishandles temporaries in co_await expressions.
    std::function<asio::awaitable<Result>(Conn&)> fn = [&sql, &params](Conn& conn) { return conn.exec(sql, params); };
    co_return co_await with<Result>(c, fn, retry);
  }

  asio::awaitable<bool> migrate(Conn& c) {
    // Fast path without DDL (which needs privileges a worker may lack).
    int version = 0;
    auto r = co_await c.exec("SELECT to_regclass('danekit.schema_version') IS NOT NULL", P());
    if (r.rows.at(0).at(0) == "t") {
      r = co_await c.exec("SELECT coalesce(max(version), 0) FROM danekit.schema_version", P());
      version = std::stoi(r.rows.at(0).at(0).value_or("0"));
    }
    if (version == schema_version) co_return true;
    if (version < schema_version) {
      co_await c.exec("BEGIN", {});
      // Processes starting at once queue up here; the first migrates.
      co_await c.exec("SELECT pg_advisory_xact_lock($1::bigint)", P(schema_lock_key));
      co_await c.exec("CREATE SCHEMA IF NOT EXISTS danekit", {});
      co_await c.exec(
          "CREATE TABLE IF NOT EXISTS danekit.schema_version (version integer PRIMARY KEY, "
          "applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL)",
          {});
      r = co_await c.exec("SELECT coalesce(max(version), 0) FROM danekit.schema_version", P());
      version = std::stoi(r.rows.at(0).at(0).value_or("0"));
      for (int next = version + 1; next <= schema_version; ++next) {
        co_await c.exec(migration(next), {});
        co_await c.exec("INSERT INTO danekit.schema_version (version, applied_by) VALUES ($1, $2)",
                        P(std::to_string(next), "danekit " + std::string(kVersion)));
      }
      co_await c.exec("COMMIT", {});
      if (version <= schema_version) co_return true;
    }
    throw QueueFailure(QueueFailure::Kind::refused,
                       fmt::format("the queue's schema is version {}, newer than this danekit understands ({}); "
                                   "upgrade danekit",
                                   version, schema_version));
  }

  asio::awaitable<std::optional<std::string>> acquire(std::string run, std::string worker, std::string key,
                                                      std::chrono::milliseconds ttl) {
    ++hs_stats.acquires;
    auto secs = fmt::format("{:.3f}", static_cast<double>(ttl.count()) / 1000.0);
    // Safety net beyond the claim's own lapse (clock steps on the server).
    auto give_up = Clock::now() + ttl + 5s;
    auto pause = 50ms;
    bool waited = false;
    while (true) {
      auto claim = co_await query(*hs,
                                  "INSERT INTO danekit.scan_handshake AS h (run, key, claimed_by, claim_until) "
                                  "VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision)) "
                                  "ON CONFLICT (run, key) DO UPDATE SET claimed_by = EXCLUDED.claimed_by, "
                                  "claim_until = EXCLUDED.claim_until "
                                  "WHERE h.value IS NULL AND (h.claim_until IS NULL OR h.claim_until < now() "
                                  "OR h.claimed_by = EXCLUDED.claimed_by) RETURNING 1",
                                  P(run, key, worker, secs));
      if (!claim.rows.empty()) {
        ++hs_stats.claims;
        co_return std::nullopt;
      }
      auto got = co_await query(*hs,
                                "UPDATE danekit.scan_handshake SET served = served + "
                                "(CASE WHEN saved_by IS DISTINCT FROM $3 THEN 1 ELSE 0 END) "
                                "WHERE run = $1 AND key = $2 AND value IS NOT NULL RETURNING value, saved_by",
                                P(run, key, worker));
      if (!got.rows.empty() && got.rows[0][0]) {
        if (got.rows[0][1] != worker) ++hs_stats.hits;
        co_return got.rows[0][0];
      }
      // Another worker is probing it now.
      if (!waited) ++hs_stats.waits;
      waited = true;
      if (Clock::now() >= give_up) co_return std::nullopt;
      asio::steady_timer t(io, pause);
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      pause = std::min(pause * 2, 500ms);
    }
  }

  void store_error(const QueueFailure& e) {
    ++hs_stats.errors;
    std::lock_guard<std::mutex> lock(hs_error_mutex);
    if (hs_error_told) return;
    hs_error_told = true;
    fmt::print(stderr, "danekit: handshake store: {}; probing locally\n", e.what());
  }
};

namespace {

class PgHandshakeStore : public HandshakeStore {
 public:
  PgHandshakeStore(PgQueue::Impl* q, std::string run, std::string worker, std::chrono::milliseconds ttl)
      : q_(q), run_(std::move(run)), worker_(std::move(worker)), ttl_(ttl) {}

  std::optional<std::string> acquire(const std::string& key) override {
    try {
      return q_->call<std::optional<std::string>>([&] { return q_->acquire(run_, worker_, key, ttl_); });
    } catch (const QueueFailure& e) {
      q_->store_error(e);
      return std::nullopt;  // probe it here; the run still gets its result
    }
  }

  void save(const std::string& key, const std::string& value) override {
    try {
      q_->call<Result>([&] {
        return q_->query(*q_->hs,
                         "INSERT INTO danekit.scan_handshake AS h (run, key, value, saved_by, saved_at) "
                         "VALUES ($1, $2, $3, $4, now()) ON CONFLICT (run, key) DO UPDATE SET "
                         "value = EXCLUDED.value, saved_by = EXCLUDED.saved_by, saved_at = now(), "
                         "claimed_by = NULL, claim_until = NULL WHERE h.value IS NULL",
                         P(run_, key, value, worker_));
      });
      ++q_->hs_stats.saves;
    } catch (const QueueFailure& e) {
      q_->store_error(e);
    }
  }

 private:
  PgQueue::Impl* q_;
  std::string run_, worker_;
  std::chrono::milliseconds ttl_;
};

}  // namespace

PgQueue::PgQueue(const std::string& url, const QueueSettings& settings) {
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &err);
  if (!parsed) {
    std::string text = err ? one_line(err) : "out of memory";
    if (err) PQfreemem(err);
    throw QueueFailure(QueueFailure::Kind::refused, fmt::format("queue URL '{}': {}", url, text));
  }
  PQconninfoFree(parsed);
  impl_ = std::make_unique<Impl>(url, settings);
  auto* q = impl_.get();
  try {
    std::function<asio::awaitable<bool>(Conn&)> migrate = [q](Conn& c) { return q->migrate(c); };
    q->call<bool>([q, &migrate] { return q->with<bool>(*q->main, migrate, false); });
  } catch (const QueueFailure& e) {
    if (e.kind() == QueueFailure::Kind::unavailable)
      throw QueueFailure(e.kind(), fmt::format("queue unavailable: {}", e.what()));
    throw;
  }
}

PgQueue::~PgQueue() = default;

void PgQueue::open_run(const std::string& run, const std::string& options_key, bool create) {
  auto* q = impl_.get();
  Param key = options_key.empty() ? Param() : Param(options_key);
  auto r = q->call<Result>([&]() -> asio::awaitable<Result> {
    if (create)
      co_await q->query(*q->main,
                        "INSERT INTO danekit.scan_run (run, options_key) VALUES ($1, $2) ON CONFLICT (run) DO NOTHING",
                        P(run, key));
    if (key)
      co_await q->query(*q->main, "UPDATE danekit.scan_run SET options_key = $2 WHERE run = $1 AND options_key IS NULL",
                        P(run, key));
    co_return co_await q->query(*q->main, "SELECT options_key FROM danekit.scan_run WHERE run = $1", P(run));
  });
  if (r.rows.empty())
    throw QueueFailure(QueueFailure::Kind::refused,
                       fmt::format("there is no run '{}' in the queue (load it with --enqueue FILE)", run));
  const auto& recorded = r.rows[0][0];
  if (key && recorded && *recorded != *key)
    throw QueueFailure(QueueFailure::Kind::refused,
                       fmt::format("run '{}' was started with other result-affecting options (options key {}, "
                                   "these are {}); use the same options or another --run",
                                   run, *recorded, *key));
}

EnqueueResult PgQueue::enqueue(const std::string& run, const DomainChunks& next) {
  auto* q = impl_.get();
  // One transaction, streamed in chunks; not retried (the input is consumed).
  std::function<asio::awaitable<EnqueueResult>(Conn&)> load = [&](Conn& c) -> asio::awaitable<EnqueueResult> {
    EnqueueResult out;
    std::uint64_t given = 0;
    co_await c.exec("BEGIN", {});
    std::vector<std::string> chunk;
    while (true) {
      chunk.clear();
      bool more = next(chunk);
      if (!chunk.empty()) {
        auto r = co_await c.exec(
            "INSERT INTO danekit.scan_domain (run, domain) SELECT $1, d FROM unnest($2::text[]) WITH ORDINALITY "
            "AS t(d, n) ORDER BY n ON CONFLICT (run, domain) DO NOTHING",
            P(run, text_array(chunk.begin(), chunk.end())));
        out.added += r.affected;
        given += chunk.size();
      }
      if (!more) break;
    }
    auto r = co_await c.exec("SELECT count(*) FROM danekit.scan_domain WHERE run = $1", P(run));
    co_await c.exec("COMMIT", {});
    out.total = to_u64(r.rows.at(0).at(0));
    out.present = given - out.added;
    co_return out;
  };
  return q->call<EnqueueResult>([&] { return q->with<EnqueueResult>(*q->main, load, false); });
}

RunStatus PgQueue::status(const std::string& run) {
  auto* q = impl_.get();
  RunStatus s;
  q->call<bool>([&]() -> asio::awaitable<bool> {
    auto r = co_await q->query(*q->main,
                               "SELECT options_key, to_char(created_at AT TIME ZONE 'UTC', "
                               "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM danekit.scan_run WHERE run = $1",
                               P(run));
    if (r.rows.empty())
      throw QueueFailure(QueueFailure::Kind::refused, fmt::format("there is no run '{}' in the queue", run));
    s.options_key = r.rows[0][0].value_or("");
    s.created_at = r.rows[0][1].value_or("");
    r = co_await q->query(*q->main,
                          "SELECT count(*), count(*) FILTER (WHERE state = 'done'), "
                          "count(*) FILTER (WHERE state = 'leased' AND lease_until >= now()), "
                          "count(*) FILTER (WHERE state = 'leased' AND lease_until < now()), "
                          "count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'failed'), "
                          "count(*) FILTER (WHERE attempts > 1), "
                          "count(*) FILTER (WHERE done_at > now() - interval '60 seconds'), "
                          "coalesce(extract(epoch FROM max(done_at) - min(done_at)), 0) "
                          "FROM danekit.scan_domain WHERE run = $1",
                          P(run));
    const auto& d = r.rows.at(0);
    s.total = to_u64(d[0]);
    s.done = to_u64(d[1]);
    s.leased = to_u64(d[2]);
    s.expired = to_u64(d[3]);
    s.pending = to_u64(d[4]);
    s.failed = to_u64(d[5]);
    s.retried = to_u64(d[6]);
    s.done_last_minute = to_u64(d[7]);
    s.done_span_seconds = std::strtod(d[8].value_or("0").c_str(), nullptr);
    r = co_await q->query(*q->main,
                          "SELECT count(*), count(*) FILTER (WHERE state = 'running' AND last_seen > now() - "
                          "interval '2 minutes') FROM danekit.scan_worker WHERE run = $1",
                          P(run));
    s.workers_seen = to_u64(r.rows.at(0)[0]);
    s.workers_active = to_u64(r.rows.at(0)[1]);
    r = co_await q->query(*q->main,
                          "SELECT count(*) FILTER (WHERE value IS NOT NULL), count(*) FILTER (WHERE value IS NULL), "
                          "coalesce(sum(served), 0) FROM danekit.scan_handshake WHERE run = $1",
                          P(run));
    s.handshakes_stored = to_u64(r.rows.at(0)[0]);
    s.handshakes_claimed = to_u64(r.rows.at(0)[1]);
    s.handshakes_served = to_u64(r.rows.at(0)[2]);
    co_return true;
  });
  return s;
}

void PgQueue::register_worker(const std::string& run, const std::string& worker, const std::string& options_key) {
  auto* q = impl_.get();
  q->call<Result>([&] {
    return q->query(*q->main,
                    "INSERT INTO danekit.scan_worker (run, worker, options_key) VALUES ($1, $2, $3) "
                    "ON CONFLICT (run, worker) DO UPDATE SET state = 'running', last_seen = now()",
                    P(run, worker, options_key.empty() ? Param() : Param(options_key)));
  });
}

void PgQueue::worker_exit(const std::string& run, const std::string& worker, const std::string& state) {
  auto* q = impl_.get();
  q->call<Result>([&] {
    return q->query(*q->main,
                    "UPDATE danekit.scan_worker SET state = $3, last_seen = now() WHERE run = $1 AND worker = $2",
                    P(run, worker, state));
  });
}

std::vector<Claim> PgQueue::claim(const std::string& run, const std::string& worker, std::size_t n,
                                  std::chrono::seconds lease, int max_attempts) {
  auto* q = impl_.get();
  auto r = q->call<Result>([&] {
    return q->query(*q->main,
                    "WITH c AS (SELECT id FROM danekit.scan_domain WHERE run = $1 AND (state = 'pending' OR "
                    "(state = 'leased' AND lease_until < now())) AND attempts < $4 ORDER BY id LIMIT $3 "
                    "FOR UPDATE SKIP LOCKED) "
                    "UPDATE danekit.scan_domain d SET state = 'leased', leased_by = $2, "
                    "lease_until = now() + make_interval(secs => $5), attempts = d.attempts + 1 "
                    "FROM c WHERE d.id = c.id RETURNING d.id, d.domain, d.attempts",
                    P(run, worker, std::to_string(n), std::to_string(max_attempts), std::to_string(lease.count())));
  });
  std::vector<Claim> out;
  for (const auto& row : r.rows)
    out.push_back({std::stoll(row.at(0).value()), row.at(1).value(), std::stoi(row.at(2).value())});
  std::sort(out.begin(), out.end(), [](const Claim& a, const Claim& b) { return a.id < b.id; });
  return out;
}

void PgQueue::release(const std::string& run, const std::string& worker, const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return;
  auto* q = impl_.get();
  q->call<Result>([&] {
    return q->query(*q->main,
                    "UPDATE danekit.scan_domain SET state = 'pending', leased_by = NULL, lease_until = NULL, "
                    "attempts = greatest(attempts - 1, 0) WHERE run = $1 AND leased_by = $2 AND state = 'leased' "
                    "AND id = ANY($3::bigint[])",
                    P(run, worker, id_array(ids)));
  });
}

std::size_t PgQueue::complete(const std::string& run, const std::string& worker,
                              const std::vector<std::pair<std::int64_t, std::string>>& results) {
  if (results.empty()) return 0;
  auto rows = nlohmann::json::array();
  for (const auto& [id, line] : results) rows.push_back({{"id", id}, {"result", line}});
  auto* q = impl_.get();
  // One statement: the results, their done state and the worker's count commit together.
  auto r = q->call<Result>([&] {
    return q->query(*q->main,
                    "WITH up AS (UPDATE danekit.scan_domain d SET state = 'done', result = r.result, done_by = $2, "
                    "done_at = now(), leased_by = NULL, lease_until = NULL "
                    "FROM json_to_recordset($3::json) AS r(id bigint, result text) "
                    "WHERE d.run = $1 AND d.id = r.id AND d.state <> 'done' RETURNING 1), "
                    "w AS (UPDATE danekit.scan_worker SET domains = domains + (SELECT count(*) FROM up), "
                    "last_seen = now() WHERE run = $1 AND worker = $2) "
                    "SELECT count(*) FROM up",
                    P(run, worker, rows.dump()));
  });
  return static_cast<std::size_t>(to_u64(r.rows.at(0).at(0)));
}

std::uint64_t PgQueue::open_domains(const std::string& run, int max_attempts) {
  auto* q = impl_.get();
  auto r = q->call<Result>([&]() -> asio::awaitable<Result> {
    co_await q->query(*q->main,
                      "UPDATE danekit.scan_domain SET state = 'failed', leased_by = NULL, lease_until = NULL "
                      "WHERE run = $1 AND state = 'leased' AND lease_until < now() AND attempts >= $2",
                      P(run, std::to_string(max_attempts)));
    co_return co_await q->query(
        *q->main, "SELECT count(*) FROM danekit.scan_domain WHERE run = $1 AND state IN ('pending', 'leased')", P(run));
  });
  return to_u64(r.rows.at(0).at(0));
}

void PgQueue::start_heartbeat(const std::string& run, const std::string& worker, std::chrono::seconds lease) {
  auto* q = impl_.get();
  asio::post(q->io, [q, run, worker, lease] {
    q->beat.emplace(q->io);
    asio::co_spawn(
        q->io,
        [q, run, worker, lease]() -> asio::awaitable<void> {
          auto every = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(lease) / 3, 500ms);
          while (!q->stopping) {
            q->beat->expires_after(every);
            boost::system::error_code ec;
            co_await q->beat->async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (q->stopping) break;
            try {
              co_await q->query(*q->main,
                                "UPDATE danekit.scan_domain SET lease_until = now() + make_interval(secs => $3) "
                                "WHERE run = $1 AND leased_by = $2 AND state = 'leased'",
                                P(run, worker, std::to_string(lease.count())), false);
              co_await q->query(*q->main,
                                "UPDATE danekit.scan_worker SET last_seen = now() WHERE run = $1 AND worker = $2",
                                P(run, worker), false);
            } catch (const std::exception&) {
              // The next beat tries again; claims and results report lasting trouble.
            }
          }
        },
        asio::detached);
  });
}

std::uint64_t PgQueue::export_run(const std::string& run, const std::function<void(const std::string&)>& line) {
  auto* q = impl_.get();
  std::uint64_t n = 0;
  RowFn each = [&](const Row& row) {
    if (row.at(0)) line(*row[0]);
    ++n;
  };
  // Streamed in single-row mode; not retried, since lines may already be out.
  Params params = P(run);
  std::function<asio::awaitable<Result>(Conn&)> select = [&](Conn& c) {
    return c.exec("SELECT result FROM danekit.scan_domain WHERE run = $1 AND state = 'done' ORDER BY id", params,
                  &each);
  };
  q->call<Result>([&] { return q->with<Result>(*q->main, select, false); });
  return n;
}

std::shared_ptr<HandshakeStore> PgQueue::handshake_store(const std::string& run, const std::string& worker,
                                                         std::chrono::milliseconds claim_ttl) {
  return std::make_shared<PgHandshakeStore>(impl_.get(), run, worker, claim_ttl);
}

HandshakeStoreStats PgQueue::handshake_stats() const {
  const auto& s = impl_->hs_stats;
  return {s.acquires.load(), s.hits.load(), s.waits.load(), s.claims.load(), s.saves.load(), s.errors.load()};
}

}  // namespace danekit::queue
