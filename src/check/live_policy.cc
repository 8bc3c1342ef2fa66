// fetch_live_sts: the live MTA-STS record and policy of one domain, the way
// `check` gets them (validating resolver, the fetch of src/sts/https_fetch.cc),
// for `danekit mta-sts generate --check`. Runs its own event loop.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include "danekit/resolver.h"
#include "danekit/sts_policy.h"
#include "dns/unbound/unbound_resolver.h"
#include "dns/unbound/wire.h"
#include "sts/https_fetch.h"

namespace danekit {

namespace asio = boost::asio;

namespace {

asio::awaitable<void> live(UnboundResolver& resolver, std::string domain, std::string ca_file,
                           std::chrono::milliseconds timeout, LiveSts& out) {
  out.record = co_await resolver.resolve("_mta-sts." + domain, rrtype::TXT, timeout);
  out.policy_host = "mta-sts." + domain;
  if (!sts_record_allows_fetch(out.record)) co_return;
  HttpsFetchRequest req;
  req.host = out.policy_host;
  req.ca_file = ca_file;
  req.timeout = timeout;
  for (auto type : {rrtype::A, rrtype::AAAA}) {
    Answer a = co_await resolver.resolve(out.policy_host, type, timeout);
    if (a.failed()) continue;
    for (const auto& rd : a.rdata)
      if (auto addr = parse_address_rdata(type, rd)) req.addresses.push_back(*addr);
  }
  if (req.addresses.empty()) co_return;
  HttpsFetchResult r = co_await https_fetch(std::move(req));
  StsFetchFacts f;
  f.outcome = to_string(r.outcome);
  f.address = r.address;
  f.status = r.status;
  f.content_type = r.content_type;
  f.location = r.location;
  f.body = std::move(r.body);
  f.detail = r.detail;
  out.fetch = std::move(f);
}

}  // namespace

LiveSts fetch_live_sts(const std::string& domain, const ResolverConfig& config, const std::string& ca_file,
                       std::chrono::milliseconds timeout) {
  asio::io_context io;
  UnboundResolver resolver(io.get_executor(), config);
  LiveSts out;
  std::exception_ptr failure;
  asio::co_spawn(io, live(resolver, domain, ca_file, timeout, out), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace danekit
