// The seams of the orchestrator: what it needs from the world. The engine
// plugs in libunbound, SMTP/TLS sessions and the system clock; tests plug in
// fakes and run the real orchestrator (tests/unit/scenario.h).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "danekit/dns.h"
#include "danekit/probe.h"
#include "sts/https_fetch.h"

namespace danekit {

class Resolver {
 public:
  virtual ~Resolver() = default;
  // A validated answer; never throws for anything the DNS does.
  virtual boost::asio::awaitable<Answer> resolve(std::string name, std::uint16_t type,
                                                 std::chrono::milliseconds timeout) = 0;
  // A lookup the ladder may ask for next: start it now, so that its answer is
  // at hand if the rules allow using it. Speculation only; may do nothing.
  virtual void prefetch(const std::string& name, std::uint16_t type, std::chrono::milliseconds timeout) {
    (void)name, (void)type, (void)timeout;
  }
};

class Prober {
 public:
  virtual ~Prober() = default;
  // The probe of one address for one domain; never throws for anything the
  // peer does. `at` is the verification time (seconds since the epoch).
  virtual boost::asio::awaitable<ProbeResult> probe(ProbeRequest req, std::int64_t at) = 0;
  // The MTA-STS policy fetch (RFC 8461 §3.3) from the given addresses; never
  // throws for anything the peer does.
  virtual boost::asio::awaitable<HttpsFetchResult> fetch(HttpsFetchRequest req) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now() const = 0;  // wall time, seconds since the epoch
};

class SystemClock final : public Clock {
 public:
  std::int64_t now() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace danekit
