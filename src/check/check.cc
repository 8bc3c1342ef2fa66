// run_checks: `danekit check` on the engine. A handful of domains needs no more
// event loops than domains (each loop has its own resolver to warm up).
#include "danekit/check.h"

#include <algorithm>
#include <thread>

#include "danekit/engine.h"

namespace danekit {

std::vector<CheckReport> run_checks(const std::vector<std::string>& domains, const CheckOptions& options) {
  EngineOptions eo;
  eo.check = options;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  eo.limits.threads = static_cast<unsigned>(std::clamp<std::size_t>(domains.size(), 1, cores));
  Engine engine(eo);
  std::vector<CheckReport> reports(domains.size());
  std::size_t next = 0;
  engine.run(
      [&]() -> std::optional<Engine::Item> {
        if (next == domains.size()) return std::nullopt;
        Engine::Item item{domains[next], next};
        ++next;
        return item;
      },
      [&](const Engine::Item& item, CheckReport r) { reports[item.tag] = std::move(r); });
  return reports;
}

}  // namespace danekit
