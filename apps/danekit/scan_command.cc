// danekit scan FILE|-: checks every domain of a list on this machine and writes
// one danekit.check/1 line per domain (JSON Lines), resumably with --state.
// danekit scan --queue URL ...: the PostgreSQL-backed scan (scan_queue.cc).
//
// The engine checks domains concurrently and reports them in completion order;
// this front end feeds it from the input reader, writes whole lines in batches,
// and after each batch commits the finished input lines and the output length
// to the state file (src/scan/state_store.h explains the resume rule).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "commands.h"
#include "danekit/engine.h"
#include "danekit/report.h"
#include "scan/input_reader.h"
#include "scan/jsonl_writer.h"
#include "scan/options_key.h"
#include "scan/shard.h"
#include "scan/state_store.h"
#include "scan/summary.h"
#include "scan_queue.h"

namespace danekit::cli {

namespace {

// docs/cli.md, "danekit scan".
namespace scan_status {
inline constexpr int completed = 0;
inline constexpr int bad_lines = 65;       // completed; some input lines were bad (EX_DATAERR)
inline constexpr int output = 73;          // output or state file not writable (EX_CANTCREAT)
inline constexpr int state_mismatch = 78;  // the state file belongs to another scan (EX_CONFIG)
}  // namespace scan_status

constexpr std::size_t kFlushBytes = 64 * 1024;
constexpr auto kFlushInterval = std::chrono::seconds(1);
constexpr std::uint64_t kMaxBadLinesShown = 100;
constexpr std::size_t kMaxOutputLine = 64u << 20;

using Clock = std::chrono::steady_clock;

// Set by SIGINT/SIGTERM: take no more domains, write what is done, exit
// 128 + signal. The handler resets itself, so a second signal kills at once.
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) { g_stop_signal.store(sig); }

struct ScanArgs {
  std::string input, output, summary, state, shard;
  // --format json (the only one: the output is read back by --state and
  // --queue; `check` writes text) and its alias --json.
  FormatFlags format{"json"};
  CheckFlags flags;
  std::size_t concurrency = 0, per_ip = 0;
  unsigned threads = 0;
  // --queue mode
  std::string queue, enqueue, run;
  bool worker = false, status = false, export_run = false;
};

int fail(int status, const std::string& message) {
  fmt::print(stderr, "danekit: {}\n", message);
  return status;
}

std::string errno_text() { return std::strerror(errno); }

// The shared flags and the limits, validated; or the usage error.
tl::expected<EngineOptions, std::string> engine_options(const ScanArgs& a) {
  if (auto e = check_flags_error(a.flags); !e.empty()) return tl::unexpected(e);
  if (auto e = policy_flags_error(a.flags); !e.empty()) return tl::unexpected(e);
  if (a.concurrency > 1'000'000) return tl::unexpected(std::string("--concurrency must be between 0 and 1000000"));
  if (a.per_ip > 10'000) return tl::unexpected(std::string("--per-ip must be between 0 and 10000"));
  if (a.threads > 1024) return tl::unexpected(std::string("--threads must be between 0 and 1024"));
  EngineOptions eo;
  eo.check = check_options(a.flags);
  eo.limits.domains_in_flight = a.concurrency;
  eo.limits.per_ip = a.per_ip;
  eo.limits.threads = a.threads;
  return eo;
}

int run_queue(const ScanArgs& a) {
  int modes = !a.enqueue.empty() + a.worker + a.status + a.export_run;
  if (modes != 1) return usage_error("--queue needs exactly one of --enqueue FILE, --worker, --status or --export");
  if (!a.input.empty()) return usage_error("with --queue the input is given as --enqueue FILE");
  if (!a.state.empty() || !a.shard.empty() || !a.summary.empty())
    return usage_error("--state, --shard and --summary do not apply to --queue");
  if (!a.output.empty() && !a.export_run) return usage_error("-o applies only to --export with --queue");
  auto eo = engine_options(a);
  if (!eo) return usage_error(eo.error());
  ScanQueueRequest req;
  req.mode = !a.enqueue.empty() ? ScanQueueRequest::Mode::enqueue
             : a.worker         ? ScanQueueRequest::Mode::worker
             : a.status         ? ScanQueueRequest::Mode::status
                                : ScanQueueRequest::Mode::export_run;
  req.url = a.queue;
  if (!a.run.empty()) req.run = a.run;
  req.input = a.enqueue;
  req.output = a.output;
  req.engine = *eo;
  req.options_key = scan::options_key(eo->check);
#ifdef DANEKIT_SCAN_QUEUE
  return run_scan_queue(req);
#else
  return usage_error("--queue is not built in");
#endif
}

// Thrown from the sink to stop the engine once a write has failed.
struct ScanStopped {};

class Scan {
 public:
  explicit Scan(const ScanArgs& a) : a_(a) {}
  ~Scan() {
    if (in_fd_ > STDIN_FILENO) ::close(in_fd_);
    if (out_fd_ > STDOUT_FILENO) ::close(out_fd_);
    if (summary_fd_ >= 0) ::close(summary_fd_);
  }
  int run();

 private:
  int prepare();
  int open_output();
  int survey();
  int open_state();
  int resume_output();
  std::optional<Engine::Item> next_item();
  void deliver(const Engine::Item& item, CheckReport report);
  bool flush_locked(bool final);
  void say_locked(const std::string& line);
  void progress_locked();
  void ticker();
  int finish(int status);

  const ScanArgs& a_;
  EngineOptions eo_;
  scan::Shard shard_;
  std::string input_name_, output_name_, input_digest_, resolver_error_;
  int in_fd_ = -1, out_fd_ = STDOUT_FILENO, summary_fd_ = -1;
  bool input_regular_ = false, progress_ = false;
  std::optional<std::uint64_t> total_;  // domains to scan in the whole input (this shard)
  std::unique_ptr<scan::StateStore> state_;
  std::unique_ptr<scan::DomainReader> reader_;
  EngineLimits limits_;
  EngineStats stats_;
  Clock::time_point start_ = Clock::now();

  std::mutex mu_;  // everything below
  std::unique_ptr<scan::JsonlWriter> writer_;
  scan::Summary summary_;
  std::uint64_t earlier_ = 0, checked_ = 0, bad_lines_ = 0;
  std::set<std::uint64_t> pending_;      // input lines in the engine
  std::vector<std::uint64_t> finished_;  // reported, not yet committed
  std::uint64_t next_line_ = 1;          // lines below, unless pending, need no more work
  Clock::time_point last_flush_ = Clock::now();
  std::atomic<bool> stop_{false};
  int fail_status_ = 0;
  std::string fail_message_, input_error_;
  bool progress_shown_ = false;

  std::mutex tick_mu_;
  std::condition_variable tick_cv_;
  bool tick_done_ = false;
};

int Scan::prepare() {
  if (a_.input.empty())
    return usage_error("scan needs an input FILE, or - for standard input (see danekit scan --help)");
  auto eo = engine_options(a_);
  if (!eo) return usage_error(eo.error());
  eo_ = *eo;
  if (!a_.shard.empty()) {
    auto s = scan::parse_shard(a_.shard);
    if (!s) return usage_error(s.error());
    shard_ = *s;
  }
  if (!a_.state.empty()) {
    if (a_.output.empty() || a_.output == "-") return usage_error("--state needs -o FILE (the output it resumes)");
    if (a_.input == "-") return usage_error("--state needs an input FILE, not standard input");
  }
  auto fd = scan::open_input(a_.input);
  if (!fd) return usage_error(fd.error());
  in_fd_ = *fd;
  input_name_ = a_.input == "-" ? std::string("standard input") : fmt::format("input '{}'", scan::printable(a_.input));
  struct stat st {};
  input_regular_ = ::fstat(in_fd_, &st) == 0 && S_ISREG(st.st_mode);
  if (!a_.state.empty() && !input_regular_)
    return usage_error(fmt::format("--state needs {} to be a regular file", input_name_));
  if (int rc = open_output(); rc != 0) return rc;
  if (!a_.summary.empty()) {
    summary_fd_ = ::open(a_.summary.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (summary_fd_ < 0)
      return fail(scan_status::output, fmt::format("summary '{}': {}", scan::printable(a_.summary), errno_text()));
  }
  progress_ = ::isatty(STDERR_FILENO) == 1;
  if (int rc = survey(); rc != 0) return rc;
  if (int rc = open_state(); rc != 0) return rc;
  if (int rc = resume_output(); rc != 0) return rc;
  return 0;
}

int Scan::open_output() {
  if (a_.output.empty() || a_.output == "-") {
    output_name_ = "standard output";
    if (::fcntl(STDOUT_FILENO, F_GETFL) < 0) return fail(scan_status::output, "standard output is closed");
    out_fd_ = STDOUT_FILENO;
    writer_ = std::make_unique<scan::JsonlWriter>(out_fd_);
    return 0;
  }
  output_name_ = fmt::format("output '{}'", scan::printable(a_.output));
  // Not truncated yet: a refused state must leave the output as it is.
  out_fd_ = ::open(a_.output.c_str(), (a_.state.empty() ? O_WRONLY : O_RDWR) | O_CREAT | O_CLOEXEC, 0644);
  if (out_fd_ < 0) return fail(scan_status::output, fmt::format("{}: {}", output_name_, errno_text()));
  struct stat in {
  }, out{};
  if (::fstat(in_fd_, &in) == 0 && ::fstat(out_fd_, &out) == 0 && S_ISREG(out.st_mode) && in.st_dev == out.st_dev &&
      in.st_ino == out.st_ino) {
    return usage_error("-o names the input file");
  }
  return 0;
}

// Reads a regular input once ahead: its fingerprint for the state file and the
// number of domains for the progress line. Bad lines are reported by the scan.
int Scan::survey() {
  if (!input_regular_ || (a_.state.empty() && !progress_)) return 0;
  scan::DomainReader r(in_fd_);
  r.enable_digest();
  std::uint64_t n = 0;
  while (true) {
    auto l = r.next();
    if (!l) return usage_error(fmt::format("{}: {}", input_name_, l.error()));
    if (!*l) break;
    if (!(*l)->bad() && scan::in_shard((*l)->domain, shard_)) ++n;
  }
  total_ = n;
  input_digest_ = r.digest();
  if (::lseek(in_fd_, 0, SEEK_SET) != 0) return usage_error(fmt::format("{}: {}", input_name_, errno_text()));
  return 0;
}

int Scan::open_state() {
  if (a_.state.empty()) return 0;
  std::error_code ec;
  auto abs = std::filesystem::absolute(a_.output, ec);
  abs = std::filesystem::weakly_canonical(abs, ec);
  scan::StateIdentity id{input_digest_, scan::options_key(eo_.check), shard_.text(), abs.string()};
  auto st = scan::StateStore::open(a_.state, id);
  if (!st) {
    return fail(st.error().kind == scan::StateError::Kind::mismatch ? scan_status::state_mismatch : scan_status::output,
                st.error().message);
  }
  state_ = std::move(*st);
  return 0;
}

// Cuts the output back to what the state recorded (nothing, for a new scan)
// and counts what is there into the summary.
int Scan::resume_output() {
  if (!writer_) writer_ = std::make_unique<scan::JsonlWriter>(out_fd_);
  struct stat st {};
  if (out_fd_ == STDOUT_FILENO || ::fstat(out_fd_, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  std::uint64_t keep = state_ ? state_->output_length() : 0;
  if (static_cast<std::uint64_t>(st.st_size) < keep) {
    return fail(scan_status::state_mismatch,
                fmt::format("{} holds {} bytes, less than the {} the state file '{}' records; it was changed since",
                            output_name_, st.st_size, keep, scan::printable(a_.state)));
  }
  if (::ftruncate(out_fd_, static_cast<off_t>(keep)) != 0 ||
      ::lseek(out_fd_, static_cast<off_t>(keep), SEEK_SET) != static_cast<off_t>(keep)) {
    return fail(scan_status::output, fmt::format("{}: {}", output_name_, errno_text()));
  }
  writer_ = std::make_unique<scan::JsonlWriter>(out_fd_, keep);
  if (keep == 0) return 0;
  // The lines an earlier run wrote count in the summary as if made now.
  auto bad_output = [&](std::uint64_t n) {
    return fail(scan_status::state_mismatch,
                fmt::format("{} line {} is not a danekit.check/1 report; it was changed since", output_name_, n));
  };
  std::string line;
  char buf[65536];
  std::uint64_t pos = 0, n = 0;
  while (pos < keep) {
    ssize_t got = ::pread(out_fd_, buf, std::min<std::uint64_t>(sizeof buf, keep - pos), static_cast<off_t>(pos));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      return fail(scan_status::output, fmt::format("{}: cannot read it back: {}", output_name_, errno_text()));
    pos += static_cast<std::uint64_t>(got);
    for (ssize_t i = 0; i < got; ++i) {
      if (buf[i] != '\n') {
        if (line.size() >= kMaxOutputLine) return bad_output(n + 1);
        line += buf[i];
        continue;
      }
      ++n;
      auto r = scan::domain_result_from_json(line);
      if (!r) return bad_output(n);
      summary_.add(*r);
      line.clear();
    }
  }
  if (!line.empty()) return bad_output(n + 1);
  earlier_ = n;
  return 0;
}

std::optional<Engine::Item> Scan::next_item() {
  while (!stop_.load() && g_stop_signal.load() == 0) {
    auto next = reader_->next();
    std::lock_guard lock(mu_);
    if (!next) {
      input_error_ = next.error();
      return std::nullopt;
    }
    if (!*next) {
      next_line_ = reader_->lines() + 1;
      return std::nullopt;
    }
    const scan::InputLine& l = **next;
    if (l.bad()) {
      if (++bad_lines_ <= kMaxBadLinesShown) {
        say_locked(fmt::format("danekit: input line {}: {}", l.number, l.error));
      } else if (bad_lines_ == kMaxBadLinesShown + 1) {
        say_locked("danekit: input: more bad lines; the summary counts them");
      }
      continue;
    }
    if (!scan::in_shard(l.domain, shard_) || (state_ && state_->done(l.number))) continue;
    pending_.insert(l.number);
    next_line_ = l.number + 1;
    return Engine::Item{l.domain, l.number};
  }
  return std::nullopt;
}

void Scan::deliver(const Engine::Item& item, CheckReport report) {
  std::string line = to_json(report);
  auto result = scan::domain_result(report);
  std::lock_guard lock(mu_);
  if (!fail_message_.empty()) throw ScanStopped{};
  writer_->add(line);
  summary_.add(result);
  ++checked_;
  pending_.erase(item.tag);
  finished_.push_back(item.tag);
  if (writer_->buffered_bytes() >= kFlushBytes || Clock::now() - last_flush_ >= kFlushInterval) {
    if (!flush_locked(false)) throw ScanStopped{};
  }
}

// Writes the queued lines, then records them in the state. False (with the
// failure noted) when either fails; the scan then stops.
bool Scan::flush_locked(bool final) {
  last_flush_ = Clock::now();
  if (!fail_message_.empty()) return false;
  if (writer_->buffered_lines() == 0 && finished_.empty() && !final) return true;
  if (auto w = writer_->flush(); !w) {
    fail_status_ = scan_status::output;
    fail_message_ = fmt::format("{}: write failed: {}; {} domains written, the rest not", output_name_, w.error(),
                                earlier_ + writer_->written());
    stop_ = true;
    return false;
  }
  if (state_) {
    std::uint64_t watermark = pending_.empty() ? next_line_ : *pending_.begin();
    if (auto c = state_->commit(finished_, watermark, writer_->offset()); !c) {
      fail_status_ = scan_status::output;
      fail_message_ = c.error().message;
      stop_ = true;
      return false;
    }
  }
  finished_.clear();
  return true;
}

void Scan::say_locked(const std::string& line) {
  std::string out = (progress_shown_ ? "\r\x1b[K" : "") + line + "\n";
  progress_shown_ = false;
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, out.data(), out.size());
}

void Scan::progress_locked() {
  std::uint64_t done = earlier_ + checked_;
  double secs = std::chrono::duration<double>(Clock::now() - start_).count();
  double rate = secs > 0 ? static_cast<double>(checked_) / secs : 0;
  std::string line = total_ ? fmt::format("{}/{} domains", done, *total_) : fmt::format("{} domains", done);
  line += fmt::format("  {:.1f}/s", rate);
  if (total_ && rate > 0 && *total_ >= done) {
    auto eta = static_cast<std::uint64_t>(static_cast<double>(*total_ - done) / rate);
    line += eta >= 3600 ? fmt::format("  ETA {}h{:02}m", eta / 3600, eta / 60 % 60)
                        : fmt::format("  ETA {}m{:02}s", eta / 60, eta % 60);
  }
  for (const auto& [verdict, n] : summary_.verdicts()) {
    if (n > 0) line += fmt::format("  {} {}", verdict, n);
  }
  if (bad_lines_ > 0) line += fmt::format("  bad lines {}", bad_lines_);
  std::string out = "\r\x1b[K" + line;
  progress_shown_ = true;
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, out.data(), out.size());
}

// Keeps output latency bounded while domains are slow, and draws progress.
void Scan::ticker() {
  if (progress_) {
    std::lock_guard lock(mu_);
    progress_locked();
  }
  std::unique_lock tick(tick_mu_);
  while (!tick_cv_.wait_for(tick, std::chrono::milliseconds(250), [&] { return tick_done_; })) {
    std::lock_guard lock(mu_);
    if (Clock::now() - last_flush_ >= kFlushInterval) flush_locked(false);
    if (progress_) progress_locked();
  }
}

int Scan::run() {
  if (int rc = prepare(); rc != 0) return rc;
  reader_ = std::make_unique<scan::DomainReader>(in_fd_);
  std::unique_ptr<Engine> engine;
  try {
    engine = std::make_unique<Engine>(eo_);
  } catch (const ResolverError& e) {
    return usage_error(e.what());
  }
  limits_ = engine->limits();

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A closed pipe or a file size limit is a failed write, reported as such.
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);

  std::thread tick([this] { ticker(); });
  int status = 0;
  try {
    engine->run([this] { return next_item(); },
                [this](const Engine::Item& item, CheckReport report) { deliver(item, std::move(report)); });
  } catch (const ScanStopped&) {
  } catch (const ResolverError& e) {
    resolver_error_ = e.what();
  }
  {
    std::lock_guard stop(tick_mu_);
    tick_done_ = true;
  }
  tick_cv_.notify_all();
  tick.join();
  stats_ = engine->stats();
  if (!resolver_error_.empty()) status = exit_status::usage;
  return finish(status);
}

int Scan::finish(int status) {
  std::lock_guard lock(mu_);
  bool interrupted = g_stop_signal.load() != 0;
  bool complete = fail_message_.empty() && input_error_.empty() && !interrupted && status == 0;
  if (fail_message_.empty()) flush_locked(complete);
  if (progress_shown_) {
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, "\r\x1b[K", 4);
    progress_shown_ = false;
  }
  if (!fail_message_.empty()) {
    say_locked("danekit: " + fail_message_);
    status = fail_status_;
  } else if (!input_error_.empty()) {
    say_locked(fmt::format("danekit: {}: {}", input_name_, input_error_));
    status = exit_status::usage;
  } else if (interrupted) {
    say_locked(fmt::format("danekit: stopped by signal {}; {} domains written{}", g_stop_signal.load(),
                           earlier_ + writer_->written(),
                           state_ ? ", run again with the same --state and -o to finish" : ""));
    status = 128 + g_stop_signal.load();
  } else if (status == exit_status::usage) {
    say_locked("danekit: " + resolver_error_);
  }
  scan::ScanContext ctx;
  ctx.input = a_.input;
  ctx.shard = shard_.count > 1 ? shard_.text() : "";
  ctx.bad_lines = bad_lines_;
  ctx.earlier = earlier_;
  ctx.checked = checked_;
  ctx.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
  ctx.domains_in_flight = limits_.domains_in_flight;
  ctx.per_ip = limits_.per_ip;
  ctx.threads = limits_.threads;
  ctx.connections = limits_.connections;
  ctx.engine = stats_;
  ctx.complete = complete;
  if (summary_fd_ >= 0) {
    std::string text = summary_.to_json(ctx) + "\n";
    bool ok = ::ftruncate(summary_fd_, 0) == 0;
    for (std::size_t done = 0; ok && done < text.size();) {
      ssize_t n = ::pwrite(summary_fd_, text.data() + done, text.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<std::size_t>(n);
    }
    if (!ok) {
      say_locked(fmt::format("danekit: summary '{}': {}", scan::printable(a_.summary), errno_text()));
      if (status == 0) status = scan_status::output;
    }
  } else {
    std::string text = summary_.to_text(ctx);
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, text.data(), text.size());
  }
  if (status == 0 && bad_lines_ > 0) status = scan_status::bad_lines;
  return status;
}

}  // namespace

void add_scan_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<ScanArgs>();
  auto* scan = app.add_subcommand("scan", "Check every domain of a list (one per line); JSON Lines out, resumable");
  scan->add_option("input", a->input, "File with one domain per line, or - for standard input");
  scan->add_option("-o,--output", a->output, "Write the JSON Lines here instead of standard output");
  scan->add_option("--summary", a->summary, "Write the summary as JSON (danekit.scan-summary/1) to this file");
  scan->add_option("--state", a->state, "SQLite state file: a scan killed and started again finishes the rest");
  scan->add_option("--shard", a->shard, "Scan only shard K of N (K/N, a hash of the domain; see docs/cli.md)");
  scan->add_option("--concurrency", a->concurrency, "Domains in flight (0: the engine's default)");
  scan->add_option("--per-ip", a->per_ip, "Connections at once to one address (0: the engine's default)");
  scan->add_option("--threads", a->threads, "Event-loop threads (0: one per core)");
  a->flags.other_cert = false;  // a scan is polite: one connection per address unless asked
  add_check_flags(*scan, a->flags);
  auto* q = scan->add_option("--queue", a->queue, "PostgreSQL URL: scan through a shared queue instead of a file")
                ->group("Queue");
  scan->add_option("--enqueue", a->enqueue, "Add the domains of FILE (or -) to the run")->group("Queue");
  scan->add_option("--run", a->run, "Name of the queue run (default: default)")->group("Queue");
  scan->add_flag("--worker", a->worker, "Check domains from the queue until the run is done")->group("Queue");
  scan->add_flag("--status", a->status, "Print the run's progress")->group("Queue");
  scan->add_flag("--export", a->export_run, "Write the run's results as JSON Lines (-o FILE or stdout)")
      ->group("Queue");
  add_format_flags(*scan, a->format,
                   "json: JSON Lines, one danekit.check/1 object per domain (the only format: a scan's output is "
                   "read back by --state; danekit check writes text reports)");
  scan->callback([a, q, &action] {
    action = [a, q] {
      std::string format_error;
      chosen_format(a->format, {"json"}, format_error);
      if (!format_error.empty()) return usage_error(format_error + " (danekit check writes text reports)");
      if (q->count() > 0) return run_queue(*a);
      if (!a->enqueue.empty() || !a->run.empty() || a->worker || a->status || a->export_run)
        return usage_error("--enqueue, --run, --worker, --status and --export need --queue URL");
      Scan scan(*a);
      return scan.run();
    };
  });
}

}  // namespace danekit::cli
