// A counting semaphore for coroutines on one event loop (not thread-safe: all
// calls on the loop that owns it). Waiters are served in arrival order, and a
// released slot passes straight to the first waiter.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <deque>
#include <memory>

namespace danekit {

class AsyncSemaphore {
 public:
  AsyncSemaphore(boost::asio::any_io_executor ex, std::size_t slots) : ex_(std::move(ex)), free_(slots), size_(slots) {}

  boost::asio::awaitable<void> acquire() {
    if (free_ > 0 && waiters_.empty()) {
      --free_;
      co_return;
    }
    auto t = std::make_shared<boost::asio::steady_timer>(ex_, boost::asio::steady_timer::time_point::max());
    waiters_.push_back(t);
    boost::system::error_code ec;
    co_await t->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    // The slot was handed over by release().
  }

  void release() {
    if (!waiters_.empty()) {
      auto t = std::move(waiters_.front());
      waiters_.pop_front();
      t->cancel();
      return;
    }
    ++free_;
  }

  bool idle() const { return free_ == size_ && waiters_.empty(); }
  std::size_t waiting() const { return waiters_.size(); }

 private:
  boost::asio::any_io_executor ex_;
  std::size_t free_;
  std::size_t size_;
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

// Releases on scope exit.
class SemaphoreSlot {
 public:
  explicit SemaphoreSlot(AsyncSemaphore& s) : s_(&s) {}
  ~SemaphoreSlot() {
    if (s_) s_->release();
  }
  SemaphoreSlot(const SemaphoreSlot&) = delete;
  SemaphoreSlot& operator=(const SemaphoreSlot&) = delete;

 private:
  AsyncSemaphore* s_;
};

}  // namespace danekit
