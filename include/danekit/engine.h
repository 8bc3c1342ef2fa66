// The check engine: one long-lived object that checks any number of mail
// domains at once, correctly and with bounded use of everything it touches.
//
// Invariants:
//  - Each domain yields exactly one CheckReport, whatever happens to it (an
//    exception, a library error, a deadline): per-domain results are values, a
//    failure in one domain never ends the batch.
//  - Limits hold at every moment: domains in flight, DNS queries in flight,
//    connections in flight and connections per destination address. Defaults
//    are sized to the process's descriptor limit (the soft limit is raised to
//    the hard limit first).
//  - Local trouble (descriptors, ports, memory, an unreachable resolver) is
//    never reported as the domain's fault: such work is retried, and when it
//    still fails the report says `determined: false` with a `local-*` reason.
//  - DNS answers are shared between all domains (one validated cache, in-flight
//    lookups merged); SMTP/TLS handshakes with the same (address, port, SNI)
//    are made once per engine and verified per domain, offline, against that
//    domain's own TLSA RRset and reference identifiers.
//  - A domain whose report rests on failures (timeouts, lookups without an
//    answer, local trouble) met while many domains were in flight is checked
//    once more at low load before it is reported: the engine's own load is
//    never the domain's fault.
//  - Reports leave the engine in completion order.
//
// No Asio, OpenSSL or libunbound types here; see docs/architecture.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "danekit/check.h"
#include "danekit/report.h"

namespace danekit {

// Zero means "choose": the effective values are in Engine::limits().
struct EngineLimits {
  std::size_t domains_in_flight = 0;  // default: min(1024, descriptors / 4)
  std::size_t dns_in_flight = 0;      // default: 4096 upstream lookups at once
  std::size_t connections = 0;        // default: descriptors left after DNS and a reserve
  std::size_t per_ip = 0;             // default: 8 connections at once to one address
  unsigned threads = 0;               // event loops; default: one per core
};

// Shares handshakes between processes (danekit scan --queue): one probe of a
// provider MX per run, not per worker. The engine calls these off its event
// loops, so they may block.
class HandshakeStore {
 public:
  virtual ~HandshakeStore() = default;
  // The stored value for `key`, if another process has already probed it.
  // Otherwise nullopt, and this process now owns the probe of `key` (a store
  // may make other callers wait until save() or until the claim lapses).
  virtual std::optional<std::string> acquire(const std::string& key) = 0;
  virtual void save(const std::string& key, const std::string& value) = 0;
};

struct EngineOptions {
  CheckOptions check;
  EngineLimits limits;
  std::shared_ptr<HandshakeStore> handshakes;  // optional
};

struct EngineStats {
  std::uint64_t domains = 0;            // reports produced
  std::uint64_t dns_lookups = 0;        // lookups sent to libunbound
  std::uint64_t dns_shared = 0;         // lookups answered from the shared cache or an in-flight twin
  std::uint64_t handshakes = 0;         // SMTP sessions opened by this process
  std::uint64_t handshakes_shared = 0;  // probes answered by an earlier or in-flight handshake
  std::uint64_t local_retries = 0;      // steps retried after a local failure
  std::uint64_t second_looks = 0;       // domains whose failures under load were checked again at low load
};

class Engine {
 public:
  // Throws ResolverError when the resolver cannot be set up (bad trust anchor,
  // root hints or forwarder).
  explicit Engine(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  struct Item {
    std::string domain;     // normalized (normalize_domain)
    std::uint64_t tag = 0;  // the caller's, returned with the report
  };
  // Called from one thread at a time whenever there is room for another
  // domain; may block; nullopt ends the input.
  using Source = std::function<std::optional<Item>()>;
  // Called from one thread at a time, as each domain completes. An exception
  // thrown here stops the run: no further items are taken, and run() rethrows
  // it once the domains in flight have ended (their reports are dropped).
  using Sink = std::function<void(const Item&, CheckReport)>;

  // Checks every item the source yields; returns when all are reported.
  void run(const Source& source, const Sink& sink);

  const EngineLimits& limits() const;
  EngineStats stats() const;

  struct Impl;  // HandshakeStore values are versioned JSON (danekit.session/1)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace danekit
