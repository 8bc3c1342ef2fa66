// Runs coroutines concurrently on the current executor and waits for all of
// them (Boost 1.74 has no parallel_group). Results keep the input order; the
// first exception, if any, is rethrown after every task has finished.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <vector>

namespace danekit {

template <class T>
boost::asio::awaitable<std::vector<T>> gather(std::vector<std::function<boost::asio::awaitable<T>()>> tasks) {
  namespace asio = boost::asio;
  auto ex = co_await asio::this_coro::executor;
  struct State {
    std::vector<T> results;
    std::size_t remaining;
    std::exception_ptr error;
    asio::steady_timer done;
    State(asio::any_io_executor e, std::size_t n)
        : results(n), remaining(n), done(e, asio::steady_timer::time_point::max()) {}
  };
  auto state = std::make_shared<State>(ex, tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    asio::co_spawn(
        ex,
        [state, i, task = std::move(tasks[i])]() -> asio::awaitable<void> {
          try {
            state->results[i] = co_await task();
          } catch (...) {
            if (!state->error) state->error = std::current_exception();
          }
          if (--state->remaining == 0) state->done.cancel();
        },
        asio::detached);
  }
  if (state->remaining > 0) {
    boost::system::error_code ec;
    co_await state->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (state->error) std::rethrow_exception(state->error);
  co_return std::move(state->results);
}

}  // namespace danekit
