// danekit scan --queue URL --enqueue FILE | --worker | --status | --export:
// the scan spread over any number of processes through PostgreSQL
// (docs/scaling.md). The queue itself is src/queue/pg_queue.cc; this file
// reads the input, drives the engine and prints.
#include "scan_queue.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <random>
#include <thread>

#include "commands.h"
#include "danekit/report.h"
#include "danekit/resolver.h"
#include "queue/pg_queue.h"
#include "scan/input_reader.h"
#include "scan/jsonl_writer.h"

namespace danekit::cli {

namespace {

using queue::PgQueue;
using queue::QueueFailure;
using namespace std::chrono_literals;

constexpr int ex_dataerr = 65;      // enqueued, but some input lines were bad (as `scan`)
constexpr int ex_cantcreat = 73;    // the export could not be written (as `scan`)
constexpr int ex_unavailable = 69;  // the queue cannot be reached
constexpr int ex_tempfail = 75;     // the run is not finished (export)

int report(const QueueFailure& e) {
  fmt::print(stderr, "danekit: {}\n", e.what());
  switch (e.kind()) {
    case QueueFailure::Kind::unavailable: return ex_unavailable;
    case QueueFailure::Kind::refused: return exit_status::usage;
    case QueueFailure::Kind::failed: break;
  }
  return exit_status::internal;
}

// Queue tuning from the environment (docs/scaling.md); bad values are usage errors.
struct Tuning {
  std::chrono::seconds lease{60};
  std::size_t hold = 0;  // domains a worker holds at once; 0: the engine's domains in flight
  int max_attempts = 3;
};

tl::expected<Tuning, std::string> tuning_from_env() {
  Tuning t;
  auto number = [](const char* name, long lo, long hi, long& out) -> std::string {
    const char* v = std::getenv(name);
    if (!v || !*v) return {};
    char* end = nullptr;
    errno = 0;
    long n = std::strtol(v, &end, 10);
    if (errno || *end || n < lo || n > hi) return fmt::format("{} must be a number from {} to {}", name, lo, hi);
    out = n;
    return {};
  };
  long lease = t.lease.count(), hold = 0, attempts = t.max_attempts;
  for (auto err : {number("DANEKIT_QUEUE_LEASE", 2, 86400, lease), number("DANEKIT_QUEUE_HOLD", 1, 100000, hold),
                   number("DANEKIT_QUEUE_ATTEMPTS", 1, 1000, attempts)})
    if (!err.empty()) return tl::unexpected(err);
  t.lease = std::chrono::seconds(lease);
  t.hold = static_cast<std::size_t>(hold);
  t.max_attempts = static_cast<int>(attempts);
  return t;
}

// host:pid:random, unique among the run's workers.
std::string worker_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "unknown");
  std::random_device rd;
  return fmt::format("{}:{}:{:08x}", host, getpid(), rd());
}

// SIGTERM/SIGINT: stop claiming, finish what is in flight, give back the rest
// and exit 128 + the signal, as `scan` does. A second signal has the default
// effect (SA_RESETHAND).
std::atomic<int> stop_requested{0};  // the signal
void on_queue_stop_signal(int sig) { stop_requested.store(sig); }

class StopSignals {
 public:
  StopSignals() {
    stop_requested = 0;
    struct sigaction sa {};
    sa.sa_handler = on_queue_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term_);
    sigaction(SIGINT, &sa, &old_int_);
  }
  ~StopSignals() {
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
  }

 private:
  struct sigaction old_term_ {
  }, old_int_{};
};

// Results go to the queue from a thread of their own, in batches of whatever
// has arrived while the previous batch was written, so the engine's sink never
// waits for a round trip (unless 1000 results are queued).
class ResultWriter {
 public:
  ResultWriter(PgQueue& q, std::string run, std::string worker)
      : q_(q), run_(std::move(run)), worker_(std::move(worker)), thread_([this] { loop(); }) {}
  ~ResultWriter() {
    {
      std::lock_guard<std::mutex> lock(m_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void add(std::int64_t id, std::string line) {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return error_ || pending_.size() < 1000; });
    if (error_) std::rethrow_exception(error_);
    pending_.emplace_back(id, std::move(line));
    cv_.notify_all();
  }

  // Waits until every result added so far is in the queue.
  void drain() {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return error_ || (pending_.empty() && !busy_); });
    if (error_) std::rethrow_exception(error_);
  }

  std::uint64_t stored() const { return stored_; }
  std::uint64_t duplicates() const { return duplicates_; }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(m_);
    while (true) {
      cv_.wait(lock, [&] { return quit_ || (!pending_.empty() && !error_); });
      if (pending_.empty() || error_) return;
      std::vector<std::pair<std::int64_t, std::string>> batch;
      batch.swap(pending_);
      busy_ = true;
      lock.unlock();
      std::exception_ptr error;
      std::size_t fresh = 0;
      try {
        fresh = q_.complete(run_, worker_, batch);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      busy_ = false;
      if (error) {
        error_ = error;
      } else {
        stored_ += fresh;
        duplicates_ += batch.size() - fresh;
      }
      cv_.notify_all();
    }
  }

  PgQueue& q_;
  std::string run_, worker_;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::pair<std::int64_t, std::string>> pending_;
  bool busy_ = false, quit_ = false;
  std::exception_ptr error_;
  std::uint64_t stored_ = 0, duplicates_ = 0;
  std::thread thread_;  // last: starts after everything above exists
};

int run_enqueue(const ScanQueueRequest& req, PgQueue& q) {
  auto fd = scan::open_input(req.input);
  if (!fd) return usage_error(fd.error());
  struct Close {
    int fd;
    ~Close() {
      if (fd != STDIN_FILENO) ::close(fd);
    }
  } closer{*fd};
  scan::DomainReader reader(*fd);
  std::uint64_t bad = 0;
  struct ReadFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  q.open_run(req.run, req.options_key, true);
  queue::EnqueueResult result;
  try {
    result = q.enqueue(req.run, [&](std::vector<std::string>& out) {
      while (out.size() < 5000) {
        auto line = reader.next();
        if (!line) throw ReadFailed(line.error());
        if (!*line) return false;
        if ((*line)->bad()) {
          ++bad;
          // As the one-machine scan reports them (docs/cli.md, "Input").
          if (bad <= 100) fmt::print(stderr, "danekit: input line {}: {}\n", (*line)->number, (*line)->error);
          continue;
        }
        out.push_back(std::move((*line)->domain));
      }
      return true;
    });
  } catch (const ReadFailed& e) {
    return usage_error(fmt::format("{}; nothing was added to run '{}'", e.what(), req.run));
  }
  fmt::print("run '{}': {} domains added, {} already there, {} in the run", req.run, result.added, result.present,
             result.total);
  if (bad) fmt::print(" ({} bad lines skipped)", bad);
  fmt::print("\n");
  return bad ? ex_dataerr : exit_status::valid;
}

int run_status(const ScanQueueRequest& req, PgQueue& q) {
  auto s = q.status(req.run);
  auto pct = [&](std::uint64_t n) {
    return s.total ? 100.0 * static_cast<double>(n) / static_cast<double>(s.total) : 0.0;
  };
  fmt::print("run:        {} (since {})\n", req.run, s.created_at);
  fmt::print("total:      {}\n", s.total);
  fmt::print("done:       {} ({:.1f}%)\n", s.done, pct(s.done));
  fmt::print("leased:     {} ({} expired)\n", s.leased + s.expired, s.expired);
  fmt::print("pending:    {}\n", s.pending);
  fmt::print("failed:     {}\n", s.failed);
  fmt::print("retried:    {}\n", s.retried);
  fmt::print("workers:    {} seen, {} active\n", s.workers_seen, s.workers_active);
  double recent = static_cast<double>(s.done_last_minute) / 60.0;
  double overall = s.done_span_seconds > 0 ? static_cast<double>(s.done) / s.done_span_seconds : 0;
  std::string left;
  std::uint64_t open = s.total - s.done - s.failed;
  if (open == 0) {
    left = "finished";
  } else if (recent > 0) {
    left = fmt::format("about {:.0f} s left", static_cast<double>(open) / recent);
  } else {
    left = "no results in the last minute";
  }
  fmt::print("rate:       {:.2f}/s last minute, {:.2f}/s overall; {}\n", recent, overall, left);
  fmt::print("handshakes: {} stored, {} being probed, {} served to other workers\n", s.handshakes_stored,
             s.handshakes_claimed, s.handshakes_served);
  fmt::print("options:    {}\n", s.options_key.empty() ? std::string("(none recorded)") : s.options_key);
  return exit_status::valid;
}

int run_export(const ScanQueueRequest& req, PgQueue& q) {
  auto before = q.status(req.run);  // refuses an unknown run before touching the output
  bool to_stdout = req.output.empty() || req.output == "-";
  int fd = STDOUT_FILENO;
  if (!to_stdout) {
    fd = ::open(req.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      fmt::print(stderr, "danekit: output '{}': {}\n", scan::printable(req.output), std::strerror(errno));
      return ex_cantcreat;
    }
  }
  struct Close {
    int fd;
    bool own;
    ~Close() {
      if (own) ::close(fd);
    }
  } closer{fd, !to_stdout};
  std::string name =
      to_stdout ? std::string("standard output") : fmt::format("output '{}'", scan::printable(req.output));
  scan::JsonlWriter out(fd);
  struct WriteFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  std::uint64_t lines = 0;
  try {
    lines = q.export_run(req.run, [&](const std::string& line) {
      out.add(line);
      if (out.buffered_bytes() >= (1u << 20))
        if (auto w = out.flush(); !w) throw WriteFailed(w.error());
    });
    if (auto w = out.flush(); !w) throw WriteFailed(w.error());
  } catch (const WriteFailed& e) {
    fmt::print(stderr, "danekit: {}: {}\n", name, e.what());
    return ex_cantcreat;
  }
  if (lines < before.total) {
    fmt::print(stderr,
               "danekit: run '{}' is not finished: {} of {} domains have a result ({} failed, the rest pending or "
               "leased); the export holds those {}\n",
               req.run, lines, before.total, before.failed, lines);
    return ex_tempfail;
  }
  return exit_status::valid;
}

int run_worker(const ScanQueueRequest& req, PgQueue& q, const Tuning& t) {
  q.open_run(req.run, req.options_key, false);
  const std::string worker = worker_id();
  q.register_worker(req.run, worker, req.options_key);
  // A probe lies within one domain's budget; a claim older than that is lost.
  auto store = q.handshake_store(req.run, worker, req.engine.check.timeout + 5s);
  EngineOptions options = req.engine;
  // DANEKIT_QUEUE_SHARE=0: every worker probes for itself (docs/scaling.md).
  const char* share = std::getenv("DANEKIT_QUEUE_SHARE");
  if (!share || std::string(share) != "0") options.handshakes = store;
  std::optional<Engine> engine;
  try {
    engine.emplace(options);
  } catch (const ResolverError& e) {
    q.worker_exit(req.run, worker, "stopped");
    return usage_error(e.what());
  }
  const std::size_t hold = t.hold ? t.hold : std::max<std::size_t>(1, engine->limits().domains_in_flight);
  const std::size_t chunk = std::min<std::size_t>(hold, 256);
  q.start_heartbeat(req.run, worker, t.lease);
  StopSignals signals;
  ResultWriter writer(q, req.run, worker);

  std::deque<queue::Claim> buffer;   // claimed, not yet handed to the engine
  std::atomic<std::size_t> held{0};  // claimed and not yet reported
  bool finished = false;
  while (!stop_requested) {
    std::size_t handed = 0;
    // Returning nullopt ends this round: when nothing is claimable now, when
    // this worker holds its share, or on SIGTERM. The engine then finishes
    // what it has, and the loop below decides whether to go on.
    auto source = [&]() -> std::optional<Engine::Item> {
      if (stop_requested) return std::nullopt;
      if (buffer.empty()) {
        if (held >= hold) return std::nullopt;
        auto got = q.claim(req.run, worker, std::min(chunk, hold - held), t.lease, t.max_attempts);
        held += got.size();
        for (auto& c : got) buffer.push_back(std::move(c));
        if (buffer.empty()) return std::nullopt;
      }
      auto c = std::move(buffer.front());
      buffer.pop_front();
      ++handed;
      return Engine::Item{std::move(c.domain), static_cast<std::uint64_t>(c.id)};
    };
    auto sink = [&](const Engine::Item& item, CheckReport report) {
      writer.add(static_cast<std::int64_t>(item.tag), to_json(report));
      --held;
    };
    engine->run(source, sink);
    writer.drain();
    if (stop_requested) break;
    if (handed > 0) continue;
    // Nothing claimable: done, or others hold leases (alive, or dead and
    // expiring). Wait a little and look again.
    if (q.open_domains(req.run, t.max_attempts) == 0) {
      finished = true;
      break;
    }
    for (int i = 0; i < 20 && !stop_requested; ++i) std::this_thread::sleep_for(100ms);
  }
  std::vector<std::int64_t> unstarted;
  for (const auto& c : buffer) unstarted.push_back(c.id);
  q.release(req.run, worker, unstarted);
  q.worker_exit(req.run, worker, finished ? "finished" : "stopped");

  auto hs = q.handshake_stats();
  auto es = engine->stats();
  fmt::print(stderr,
             "danekit: worker {} {}: {} domains stored, {} already done elsewhere, {} given back; "
             "engine: {} handshakes, {} shared; handshake store: {} acquires, {} from other workers, {} waited, "
             "{} probed here, {} saved, {} errors\n",
             worker, finished ? "finished, nothing left in run '" + req.run + "'" : "stopped", writer.stored(),
             writer.duplicates(), unstarted.size(), es.handshakes, es.handshakes_shared, hs.acquires, hs.hits, hs.waits,
             hs.claims, hs.saves, hs.errors);
  return finished ? exit_status::valid : 128 + stop_requested.load();
}

}  // namespace

int run_scan_queue(const ScanQueueRequest& request) {
  auto tuning = tuning_from_env();
  if (!tuning) return usage_error(tuning.error());
  try {
    PgQueue q(request.url, queue::QueueSettings{});
    switch (request.mode) {
      case ScanQueueRequest::Mode::enqueue: return run_enqueue(request, q);
      case ScanQueueRequest::Mode::worker: return run_worker(request, q, *tuning);
      case ScanQueueRequest::Mode::status: return run_status(request, q);
      case ScanQueueRequest::Mode::export_run: return run_export(request, q);
    }
    return exit_status::internal;
  } catch (const QueueFailure& e) {
    return report(e);
  }
}

}  // namespace danekit::cli
