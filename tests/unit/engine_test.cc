// Engine building blocks: the coroutine semaphore behind every limit, the
// errno classification that keeps local trouble off the domain's record, and
// the engine's refusal of a configuration it cannot use.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cerrno>

#include "danekit/engine.h"
#include "net/async_semaphore.h"
#include "net/smtp_probe.h"

namespace danekit {
namespace {

namespace asio = boost::asio;

TEST(AsyncSemaphore, NeverMoreHoldersThanSlotsAndServesInArrivalOrder) {
  asio::io_context io;
  AsyncSemaphore sem(io.get_executor(), 2);
  int holders = 0, most = 0;
  std::vector<int> order;
  auto worker = [&](int id) -> asio::awaitable<void> {
    co_await sem.acquire();
    SemaphoreSlot slot(sem);
    order.push_back(id);
    most = std::max(most, ++holders);
    // Give the others a chance to pile up behind the limit.
    for (int i = 0; i < 3; ++i) co_await asio::post(io, asio::use_awaitable);
    --holders;
  };
  for (int i = 0; i < 6; ++i) asio::co_spawn(io, worker(i), asio::detached);
  io.run();
  EXPECT_EQ(most, 2);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(sem.idle());
}

TEST(LocalCause, OnlyErrorsOfThisMachineAreLocal) {
  using boost::system::error_code;
  using boost::system::system_category;
  EXPECT_EQ(local_cause_of(error_code(EMFILE, system_category())), "descriptors");
  EXPECT_EQ(local_cause_of(error_code(ENFILE, system_category())), "descriptors");
  EXPECT_EQ(local_cause_of(error_code(EADDRNOTAVAIL, system_category())), "ports");
  EXPECT_EQ(local_cause_of(error_code(ENOBUFS, system_category())), "memory");
  // The peer's or the path's doing: the domain's to fix, not ours.
  EXPECT_EQ(local_cause_of(error_code(ECONNREFUSED, system_category())), "");
  EXPECT_EQ(local_cause_of(error_code(ETIMEDOUT, system_category())), "");
  EXPECT_EQ(local_cause_of(error_code(EHOSTUNREACH, system_category())), "");
  EXPECT_EQ(local_cause_of(error_code(ECONNRESET, system_category())), "");
}

TEST(Engine, RefusesAnUnreadableTrustAnchor) {
  EngineOptions o;
  o.check.resolver.trust_anchor_file = "/nonexistent/root.key";
  EXPECT_THROW(Engine e(o), ResolverError);
}

TEST(Engine, EmptyInputEndsAtOnceWithEffectiveLimits) {
  EngineOptions o;
  o.limits.threads = 2;
  o.limits.per_ip = 3;
  Engine e(o);
  int reports = 0;
  e.run([]() -> std::optional<Engine::Item> { return std::nullopt; },
        [&](const Engine::Item&, CheckReport) { ++reports; });
  EXPECT_EQ(reports, 0);
  EXPECT_EQ(e.limits().threads, 2u);
  EXPECT_EQ(e.limits().per_ip, 3u);
  EXPECT_GT(e.limits().domains_in_flight, 0u);
  EXPECT_GT(e.limits().connections, 0u);
  EXPECT_EQ(e.stats().domains, 0u);
}

}  // namespace
}  // namespace danekit
