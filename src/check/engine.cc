// PROVISIONAL: batches over run_checks until the real engine lands.
#include "danekit/engine.h"

#include <thread>

namespace danekit {

struct Engine::Impl {
  EngineOptions options;
  EngineLimits limits;
  EngineStats stats;
};

Engine::Engine(const EngineOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->limits = options.limits;
  if (impl_->limits.domains_in_flight == 0) impl_->limits.domains_in_flight = 64;
  if (impl_->limits.per_ip == 0) impl_->limits.per_ip = 8;
  if (impl_->limits.threads == 0) impl_->limits.threads = std::max(1u, std::thread::hardware_concurrency());
}
Engine::~Engine() = default;
const EngineLimits& Engine::limits() const { return impl_->limits; }
EngineStats Engine::stats() const { return impl_->stats; }

void Engine::run(const Source& source, const Sink& sink) {
  while (true) {
    std::vector<Item> batch;
    while (batch.size() < impl_->limits.domains_in_flight) {
      auto item = source();
      if (!item) break;
      batch.push_back(std::move(*item));
    }
    if (batch.empty()) return;
    std::vector<std::string> names;
    for (const auto& i : batch) names.push_back(i.domain);
    auto reports = run_checks(names, impl_->options.check);
    for (std::size_t k = 0; k < batch.size(); ++k) {
      ++impl_->stats.domains;
      sink(batch[k], std::move(reports[k]));
    }
  }
}

}  // namespace danekit
