// probe_server: one host, outside a domain check (tlsa generate/verify, rollover).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include <fmt/format.h>

#include "danekit/probe.h"
#include "danekit/resolver.h"
#include "dns/unbound/unbound_resolver.h"
#include "dns/unbound/wire.h"
#include "net/gather.h"
#include "net/smtp_probe.h"
#include "tls/openssl/smtp_tls.h"

namespace danekit {

namespace asio = boost::asio;

std::vector<ProbeResult> probe_server(const std::string& host, const ServerProbeOptions& options,
                                      const ResolverConfig& resolver_config, std::string& error) {
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls::configure_context(tls.native_handle());
  std::vector<ProbeResult> results;
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  bool literal = !ec;
  std::optional<UnboundResolver> resolver;
  if (!literal) resolver.emplace(io.get_executor(), resolver_config);

  auto run = [&]() -> asio::awaitable<void> {
    std::vector<std::string> addresses;
    if (literal) {
      addresses.push_back(host);
    } else {
      for (auto type : {rrtype::A, rrtype::AAAA}) {
        auto a = co_await resolver->resolve(host, type, options.timeout);
        if (a.failed()) {
          error = fmt::format("{} lookup for {} failed: {}", rrtype_name(type), host, a.detail);
          co_return;
        }
        for (const auto& rd : a.rdata)
          if (auto addr = parse_address_rdata(type, rd)) addresses.push_back(*addr);
      }
      if (addresses.empty()) {
        error = fmt::format("{} has no A or AAAA records", host);
        co_return;
      }
    }
    std::vector<std::function<asio::awaitable<ProbeResult>()>> work;
    for (const auto& address : addresses) {
      ProbeRequest req;
      req.address = address;
      req.port = options.port;
      req.implicit_tls = options.implicit_tls;
      req.mode = options.records.empty() ? ProbeMode::opportunistic : ProbeMode::dane;
      req.records = options.records;
      req.tlsa_base = options.sni.empty() && !literal ? host : options.sni;
      req.extra_names = options.extra_names;
      req.helo = options.helo;
      req.total_timeout = options.timeout;
      work.push_back([&tls, req] { return probe_smtp(tls, req); });
    }
    results = co_await gather(std::move(work));
  };
  std::exception_ptr failure;
  asio::co_spawn(io, run(), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return results;
}

}  // namespace danekit
