// Facts for the rollover planner: DNS (validated), probes, first-seen times.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>
#include <chrono>

#include "danekit/dnssec_audit.h"
#include "danekit/policy.h"
#include "danekit/rollover.h"
#include "danekit/tlsa_generate.h"
#include "dns/unbound/unbound_resolver.h"
#include "dns/unbound/wire.h"
#include "net/gather.h"
#include "state/seen_store.h"

namespace danekit {

namespace asio = boost::asio;

namespace {

// Runs one coroutine that uses a fresh resolver to completion.
template <class T, class F>
T run_with_resolver(const ResolverConfig& config, F body) {
  asio::io_context io;
  UnboundResolver resolver(io.get_executor(), config);
  T out{};
  std::exception_ptr failure;
  asio::co_spawn(io, body(resolver), [&](std::exception_ptr e, T r) {
    failure = e;
    out = std::move(r);
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace

tl::expected<std::vector<std::string>, std::string> lookup_mx_hosts(const std::string& domain,
                                                                    const ResolverConfig& config) {
  Answer mx;
  try {
    mx = run_with_resolver<Answer>(config, [&](UnboundResolver& r) -> asio::awaitable<Answer> {
      co_return co_await r.resolve(domain, rrtype::MX, std::chrono::seconds(10));
    });
  } catch (const ResolverError& e) {
    return tl::unexpected(std::string(e.what()));
  }
  auto plan = plan_mx(domain, mx);
  if (plan.hosts.empty()) {
    std::string why = plan.reasons.empty() ? "no MX hosts" : plan.reasons.back().text;
    return tl::unexpected(fmt::format("{}: {}", domain, why));
  }
  std::vector<std::string> hosts;
  for (const auto& h : plan.hosts) hosts.push_back(h.host);
  return hosts;
}

tl::expected<RolloverFacts, std::string> gather_rollover_facts(const RolloverOptions& o) {
  RolloverFacts f;
  f.host = o.host;
  f.port = o.port;
  f.owner = fmt::format("_{}._tcp.{}", o.port, o.host);
  f.extra_names = o.extra_names;
  f.current = o.current;
  f.next = o.next;
  f.margin = o.margin;
  f.now = o.now ? o.now
                : std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                      .count();

  std::vector<Answer> answers;
  try {
    answers = run_with_resolver<std::vector<Answer>>(
        o.resolver, [&](UnboundResolver& r) -> asio::awaitable<std::vector<Answer>> {
          std::vector<std::function<asio::awaitable<Answer>()>> work;
          work.push_back([&r, &f, &o] { return r.resolve(f.owner, rrtype::TLSA, o.timeout); });
          work.push_back([&r, &f, &o] { return r.resolve(f.owner, rrtype::SOA, o.timeout); });
          co_return co_await gather(std::move(work));
        });
  } catch (const ResolverError& e) {
    return tl::unexpected(std::string(e.what()));
  }
  const Answer& tlsa = answers[0];
  const Answer& soa = answers[1];
  f.tlsa_security = tlsa.security;
  f.tlsa_kind = tlsa.kind;
  f.tlsa_detail = tlsa.detail;
  f.tlsa_ttl = tlsa.ttl;
  f.zone = !soa.soa_zone.empty() ? soa.soa_zone : tlsa.soa_zone;
  f.negative_ttl = soa.negative_ttl ? soa.negative_ttl : tlsa.negative_ttl;

  auto path = o.state_file.empty() ? default_state_path() : tl::expected<std::string, std::string>(o.state_file);
  if (!path) return tl::unexpected(path.error());
  auto store = SeenStore::open(*path);
  if (!store) return tl::unexpected(store.error());
  std::vector<TlsaRecord> published;
  std::vector<std::string> texts;
  if (tlsa.kind == AnswerKind::data && tlsa.security == Security::secure) {
    for (const auto& rd : tlsa.rdata) {
      auto rec = parse_tlsa_wire(rd);
      if (!rec) continue;
      auto text = to_presentation(*rec);
      auto seen = (*store)->observe(f.owner, text, f.now);
      if (!seen) return tl::unexpected(seen.error());
      f.published.push_back({*rec, *seen});
      texts.push_back(text);
      published.push_back(*rec);
    }
    if (auto kept = (*store)->keep_only(f.owner, texts); !kept) return tl::unexpected(kept.error());
  } else if (tlsa.kind == AnswerKind::nodata || tlsa.kind == AnswerKind::nxdomain) {
    if (tlsa.security == Security::secure) (*store)->keep_only(f.owner, {});
  }

  // Every authoritative server's own copy (danekit dnssec's walk and direct
  // queries): the validated answer came from whichever server the resolver chose.
  if (tlsa.security == Security::secure) {
    DnssecCollectOptions d;
    d.resolver = o.resolver;
    d.deadline = o.timeout;
    d.query_timeout = std::min(d.query_timeout, o.timeout);
    auto auth = query_authoritative(f.owner, rrtype::TLSA, d);
    f.authoritative_error = auth.error;
    if (auth.servers.empty() && auth.error.empty()) f.authoritative_error = "no authoritative server found";
    for (const auto& s : auth.servers) {
      AuthoritativeTlsa t{s.name, s.address, s.failure, {}};
      for (const auto& rd : s.rdata)
        if (auto rec = parse_tlsa_wire(rd)) t.records.push_back(*rec);
      f.authoritative.push_back(std::move(t));
    }
  }

  ServerProbeOptions probe;
  probe.port = o.port;
  probe.sni = o.host;
  probe.records = records_for_openssl(published);  // what a sender hands to OpenSSL
  probe.extra_names = o.extra_names;
  probe.timeout = o.timeout;
  std::string error;
  f.served = probe_server(o.host, probe, o.resolver, error);
  if (f.served.empty() && !error.empty()) f.tlsa_detail += (f.tlsa_detail.empty() ? "" : "; ") + error;
  return f;
}

}  // namespace danekit
