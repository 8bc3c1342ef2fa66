// The PostgreSQL work queue behind `danekit scan --queue` (docs/scaling.md).
//
// One PgQueue is one process's view of the queue database: a thread of its own
// runs an Asio event loop that drives two libpq connections through libpq's
// asynchronous API (PQsendQueryParams / PQconsumeInput, PQsocket watched by a
// stream_descriptor). One connection serves the queue (claims, results, leases,
// status, export); the other serves the HandshakeStore, whose callers wait for
// other workers' probes without holding up the queue. Every method here is
// synchronous and may be called from any thread except the queue's own.
//
// Invariants:
//  - Every wait is bounded: connecting by `connect_timeout`, every statement by
//    `statement_timeout` on the server and a client deadline slightly longer; a
//    lost connection is re-opened and the (idempotent) operation retried for at
//    most `retry_for`, after which the operation throws QueueFailure::unavailable.
//  - A domain's result and its `done` state are written by one statement, and a
//    result for a domain that is already done is dropped: every domain of a run
//    has exactly one result, however often it was claimed.
//  - The schema is created and migrated under a transaction-level advisory lock,
//    so any number of processes may open the queue at once.
//
// libpq types stay in pg_queue.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "danekit/engine.h"

namespace danekit::queue {

// Errors, grouped by what the caller does next.
class QueueFailure : public std::runtime_error {
 public:
  enum class Kind {
    unavailable,  // the server cannot be reached or went away: try later (exit 69)
    refused,      // the request contradicts the run (other options, no such run): fix the request
    failed,       // the server refused a statement: a bug or a broken database
  };
  QueueFailure(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct QueueSettings {
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds statement_timeout{30000};
  std::chrono::milliseconds retry_for{30000};  // reconnecting after a lost connection
};

// The schema version this build creates and understands.
inline constexpr int schema_version = 1;

struct EnqueueResult {
  std::uint64_t added = 0;    // new domains
  std::uint64_t present = 0;  // already in the run (or repeated in the input)
  std::uint64_t total = 0;    // domains in the run afterwards
};

struct RunStatus {
  std::uint64_t total = 0, done = 0, leased = 0, expired = 0, pending = 0, failed = 0;
  std::uint64_t retried = 0;  // domains claimed more than once
  std::uint64_t workers_seen = 0, workers_active = 0;
  std::uint64_t done_last_minute = 0;
  double done_span_seconds = 0;  // first to last result
  std::uint64_t handshakes_stored = 0, handshakes_claimed = 0, handshakes_served = 0;
  std::string options_key;
  std::string created_at;
};

struct Claim {
  std::int64_t id = 0;
  std::string domain;
  int attempts = 0;  // including this one
};

struct HandshakeStoreStats {
  std::uint64_t acquires = 0;  // acquire() calls
  std::uint64_t hits = 0;      // answered with a value saved by another worker
  std::uint64_t waits = 0;     // acquires that waited for another worker's claim
  std::uint64_t claims = 0;    // acquires that made this worker the prober
  std::uint64_t saves = 0;
  std::uint64_t errors = 0;  // store unreachable: the engine probed locally
};

class PgQueue {
 public:
  // Connects (one attempt, bounded) and creates or migrates the schema. Throws
  // QueueFailure: unavailable when the server cannot be reached, refused when
  // `url` is not a PostgreSQL URL or conninfo string or the schema is newer
  // than this build.
  PgQueue(const std::string& url, const QueueSettings& settings);
  ~PgQueue();
  PgQueue(const PgQueue&) = delete;
  PgQueue& operator=(const PgQueue&) = delete;

  // Creates the run when `create` (else refused when it does not exist) and
  // records `options_key` when the run has none yet; refused when the run holds
  // a different one. An empty key is never recorded nor compared.
  void open_run(const std::string& run, const std::string& options_key, bool create);

  // Adds domains (normalized, in input order) in one transaction: `next` fills
  // its vector with the next few and returns false after the last. Domains
  // already in the run are skipped. `next` runs on the queue's thread; what it
  // throws aborts the transaction and comes out here.
  using DomainChunks = std::function<bool(std::vector<std::string>&)>;
  EnqueueResult enqueue(const std::string& run, const DomainChunks& next);

  RunStatus status(const std::string& run);

  void register_worker(const std::string& run, const std::string& worker, const std::string& options_key);
  // state: finished | stopped
  void worker_exit(const std::string& run, const std::string& worker, const std::string& state);

  // Claims up to `n` pending domains or domains whose lease has expired (a
  // worker that died), for `lease`; each claim counts an attempt. Domains that
  // have used up `max_attempts` are not claimed again (see open_domains).
  std::vector<Claim> claim(const std::string& run, const std::string& worker, std::size_t n, std::chrono::seconds lease,
                           int max_attempts);
  // Gives back claimed domains this worker will not check (SIGTERM); their
  // attempt is not counted.
  void release(const std::string& run, const std::string& worker, const std::vector<std::int64_t>& ids);
  // Stores results (id, to_json(report)) and marks them done, in one
  // transaction; returns how many were new (the rest were already done).
  std::size_t complete(const std::string& run, const std::string& worker,
                       const std::vector<std::pair<std::int64_t, std::string>>& results);
  // Domains not done yet: pending, or leased (by anyone, lease live or not).
  // Marks expired leases that used up `max_attempts` as failed first.
  std::uint64_t open_domains(const std::string& run, int max_attempts);

  // Extends this worker's leases and its last-seen time every lease/3 until
  // the queue is destroyed. Failures are retried at the next beat.
  void start_heartbeat(const std::string& run, const std::string& worker, std::chrono::seconds lease);

  // Calls `line` with each done domain's result, in input order (streamed).
  // Returns the number of lines.
  std::uint64_t export_run(const std::string& run, const std::function<void(const std::string&)>& line);

  // The run's shared handshakes (scan_handshake). A claim lapses after
  // `claim_ttl`; waiters poll until a value is saved or the claim lapses.
  std::shared_ptr<HandshakeStore> handshake_store(const std::string& run, const std::string& worker,
                                                  std::chrono::milliseconds claim_ttl);
  HandshakeStoreStats handshake_stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace danekit::queue
