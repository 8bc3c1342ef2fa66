// lookup_tlsa: the validated TLSA lookup behind `danekit tlsa verify`. The only
// I/O of the tlsa commands' DNS side; it drives the libunbound adapter, which
// validates.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include "danekit/tlsa_generate.h"
#include "dns/unbound/unbound_resolver.h"

namespace danekit {

TlsaLookup lookup_tlsa(const std::string& host, std::uint16_t port, const ResolverConfig& config,
                       std::chrono::milliseconds timeout) {
  boost::asio::io_context io;
  UnboundResolver resolver(io.get_executor(), config);
  TlsaLookup out;
  std::string qname = fmt::format("_{}._tcp.{}", port, host);
  auto run = [&]() -> boost::asio::awaitable<void> {
    Answer a = co_await resolver.resolve(qname, rrtype::TLSA, timeout);
    out.status.name = a.qname;
    out.status.type = "TLSA";
    out.status.security = a.security;
    out.status.kind = a.kind;
    out.status.ttl = a.ttl;
    out.status.detail = a.detail;
    out.status.cname_targets = a.cname_targets;
    for (const auto& rd : a.rdata) {
      if (auto r = parse_tlsa_wire(rd)) {
        out.records.push_back(std::move(*r));
      } else {
        out.errors.push_back(r.error());
      }
    }
  };
  std::exception_ptr failure;
  boost::asio::co_spawn(io, run(), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace danekit
