// libunbound behind an Asio coroutine interface. libunbound does the recursion
// and the DNSSEC validation (in its own thread); results arrive over its pipe,
// which this adapter watches on the event loop. Every lookup is bounded by a
// deadline and classified into an Answer (danekit/dns.h), by classify_answer
// (dns/unbound/wire.h). libunbound's own log lines are dropped; the
// environment variable DANEKIT_UNBOUND_LOG=N (0-5) sends them to stderr at
// libunbound verbosity N, for debugging.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "danekit/dns.h"
#include "danekit/resolver.h"

struct ub_ctx;

namespace danekit {

// libunbound's limits, lifted for bulk work (its defaults stall near 15
// upstream queries in flight at 50 ms RTT). Zero keeps libunbound's default.
struct UnboundTuning {
  int outgoing_range = 0;       // UDP sockets for upstream queries
  int queries_per_thread = 0;   // lookups libunbound works on at once
  int outgoing_tcp = 0;         // TCP connections upstream
  bool aggressive_nsec = true;  // RFC 8198 synthesis from cached NSEC
};

class UnboundResolver {
 public:
  // Throws ResolverError when the configuration cannot be used.
  UnboundResolver(boost::asio::any_io_executor ex, const ResolverConfig& config, const UnboundTuning& tuning = {});
  ~UnboundResolver();
  UnboundResolver(const UnboundResolver&) = delete;
  UnboundResolver& operator=(const UnboundResolver&) = delete;

  boost::asio::awaitable<Answer> resolve(std::string name, std::uint16_t type, std::chrono::milliseconds timeout);

  struct Pending;

 private:
  void start_reader();

  ub_ctx* ctx_ = nullptr;
  boost::asio::posix::stream_descriptor fd_;
  std::size_t outstanding_ = 0;
  bool reading_ = false;
};

}  // namespace danekit
