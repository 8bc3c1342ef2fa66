// The orchestrator of `danekit check`: performs the lookups the policy ladder
// asks for and the probes it plans, concurrently, under one deadline per domain.
#include "danekit/check.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>

#include "dns/unbound/unbound_resolver.h"
#include "net/gather.h"
#include "net/smtp_probe.h"
#include "tls/openssl/smtp_tls.h"

namespace danekit {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

struct Job {
  UnboundResolver& resolver;
  asio::ssl::context& tls;
  const CheckOptions& opt;
  Clock::time_point deadline;

  std::chrono::milliseconds remaining(std::chrono::milliseconds cap) const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return std::max(std::chrono::milliseconds(1), std::min(cap, left));
  }

  asio::awaitable<Answer> lookup(std::string name, std::uint16_t type) {
    co_return co_await resolver.resolve(std::move(name), type, remaining(opt.dns_timeout));
  }

  asio::awaitable<HostPlan> host(std::string domain, Security mx_security, MxTarget target) {
    HostFacts f;
    f.target = target;
    std::vector<std::function<asio::awaitable<Answer>()>> families;
    if (opt.policy.ipv4) families.push_back([this, target] { return lookup(target.host, rrtype::A); });
    if (opt.policy.ipv6) families.push_back([this, target] { return lookup(target.host, rrtype::AAAA); });
    auto answers = co_await gather(std::move(families));
    std::size_t k = 0;
    if (opt.policy.ipv4) f.a = answers[k++];
    if (opt.policy.ipv6) f.aaaa = answers[k++];
    if (needs_cname_probe(f)) f.cname = co_await lookup(target.host, rrtype::CNAME);
    while (auto q = next_tlsa_query(f)) f.tlsa.push_back(co_await lookup(*q, rrtype::TLSA));
    co_return plan_host(domain, mx_security, f, opt.policy);
  }

  asio::awaitable<CheckReport> run(std::string domain) {
    auto started = Clock::now();
    Answer mx = co_await lookup(domain, rrtype::MX);
    MxPlan mx_plan = plan_mx(domain, mx);
    std::vector<HostPlan> plans;
    std::vector<std::vector<ProbeResult>> probes;
    if (!mx_plan.stop) {
      std::vector<std::function<asio::awaitable<HostPlan>()>> hosts;
      for (const auto& t : mx_plan.hosts)
        hosts.push_back([this, domain, sec = mx_plan.mx_security, t] { return host(domain, sec, t); });
      plans = co_await gather(std::move(hosts));

      // Every address of every host at once; results are regrouped per host.
      std::vector<std::function<asio::awaitable<ProbeResult>()>> work;
      std::vector<std::size_t> owner;
      for (std::size_t i = 0; i < plans.size(); ++i) {
        if (!plans[i].probe) continue;
        for (const auto& address : plans[i].addresses) {
          ProbeRequest req;
          req.address = address;
          req.port = opt.port;
          req.mode = plans[i].mode;
          req.records = plans[i].usable;
          req.tlsa_base = plans[i].report.tlsa_base;
          req.extra_names = plans[i].extra_names;
          req.helo = opt.helo;
          req.connect_timeout = opt.connect_timeout;
          req.command_timeout = opt.command_timeout;
          req.total_timeout = remaining(opt.timeout);
          work.push_back([this, req] { return probe_smtp(tls, req); });
          owner.push_back(i);
        }
      }
      auto results = co_await gather(std::move(work));
      probes.resize(plans.size());
      for (std::size_t k = 0; k < results.size(); ++k) probes[owner[k]].push_back(std::move(results[k]));
    }
    auto report = decide(domain, mx, mx_plan, std::move(plans), std::move(probes), opt.policy);
    report.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    co_return report;
  }
};

}  // namespace

std::vector<CheckReport> run_checks(const std::vector<std::string>& domains, const CheckOptions& options) {
  CheckOptions opt = options;
  if (opt.policy.now == 0)
    opt.policy.now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls::configure_context(tls.native_handle());
  UnboundResolver resolver(io.get_executor(), opt.resolver);

  std::vector<CheckReport> reports(domains.size());
  std::exception_ptr error;
  for (std::size_t i = 0; i < domains.size(); ++i) {
    auto job = std::make_shared<Job>(Job{resolver, tls, opt, Clock::now() + opt.timeout});
    asio::co_spawn(
        io, [job, d = domains[i]]() { return job->run(d); },
        [&, i, job](std::exception_ptr e, CheckReport r) {
          if (e && !error) error = e;
          reports[i] = std::move(r);
        });
  }
  io.run();
  if (error) std::rethrow_exception(error);
  return reports;
}

}  // namespace danekit
