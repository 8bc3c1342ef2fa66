// The scan state file (resume bookkeeping, refusal of another scan's state) and
// the JSON Lines writer that never leaves a torn line behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "scan/jsonl_writer.h"
#include "scan/options_key.h"
#include "scan/state_store.h"

namespace danekit::scan {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char name[] = "/tmp/danekit-scan-state-XXXXXX";
    path = ::mkdtemp(name);
  }
  ~TempDir() { fs::remove_all(path); }
};

StateIdentity identity() { return {"input-digest", "options-key", "0/1", "/tmp/out.jsonl"}; }

TEST(ScanState, NewStateThenResume) {
  TempDir dir;
  auto db = (dir.path / "s.db").string();
  {
    auto st = StateStore::open(db, identity());
    ASSERT_TRUE(st.has_value()) << st.error().message;
    EXPECT_FALSE((*st)->resumed());
    EXPECT_EQ((*st)->output_length(), 0u);
    EXPECT_FALSE((*st)->done(1));
    // Lines 2 and 5 finished, 3 still in flight: everything below 3 is done.
    ASSERT_TRUE((*st)->commit({2, 5}, 3, 100).has_value());
    ASSERT_TRUE((*st)->commit({7}, 3, 150).has_value());
    EXPECT_TRUE((*st)->done(1));
    EXPECT_TRUE((*st)->done(2));
    EXPECT_FALSE((*st)->done(3));
    EXPECT_TRUE((*st)->done(5));
  }
  {
    auto st = StateStore::open(db, identity());
    ASSERT_TRUE(st.has_value()) << st.error().message;
    EXPECT_TRUE((*st)->resumed());
    EXPECT_EQ((*st)->output_length(), 150u);
    EXPECT_EQ((*st)->done_below(), 3u);
    EXPECT_TRUE((*st)->done(2));
    EXPECT_FALSE((*st)->done(3));
    EXPECT_FALSE((*st)->done(4));
    EXPECT_TRUE((*st)->done(5));
    EXPECT_FALSE((*st)->done(6));
    EXPECT_TRUE((*st)->done(7));
    // The mark moves past 7: the rows below it are dropped.
    ASSERT_TRUE((*st)->commit({3, 4, 6}, 8, 300).has_value());
    EXPECT_TRUE((*st)->done(6));
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(raw, "SELECT count(*) FROM scan_done", -1, &q, nullptr);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 0);
  sqlite3_finalize(q);
  sqlite3_close(raw);
}

TEST(ScanState, MarksNeverGoBack) {
  TempDir dir;
  auto st = StateStore::open((dir.path / "s.db").string(), identity());
  ASSERT_TRUE(st.has_value());
  ASSERT_TRUE((*st)->commit({}, 10, 500).has_value());
  ASSERT_TRUE((*st)->commit({12}, 4, 400).has_value());
  EXPECT_EQ((*st)->done_below(), 10u);
  EXPECT_EQ((*st)->output_length(), 500u);
  EXPECT_TRUE((*st)->done(12));
}

TEST(ScanState, AnotherScansStateIsRefused) {
  TempDir dir;
  auto db = (dir.path / "s.db").string();
  ASSERT_TRUE(StateStore::open(db, identity()).has_value());
  auto with = [&](auto change) {
    auto id = identity();
    change(id);
    auto st = StateStore::open(db, id);
    EXPECT_FALSE(st.has_value());
    return st.has_value() ? StateError{} : st.error();
  };
  auto input = with([](StateIdentity& id) { id.input_digest = "other"; });
  EXPECT_EQ(input.kind, StateError::Kind::mismatch);
  EXPECT_NE(input.message.find("different input"), std::string::npos) << input.message;
  EXPECT_EQ(input.message.find('\n'), std::string::npos);
  auto options = with([](StateIdentity& id) { id.options_key = "other"; });
  EXPECT_EQ(options.kind, StateError::Kind::mismatch);
  EXPECT_NE(options.message.find("different options"), std::string::npos);
  auto shard = with([](StateIdentity& id) { id.shard = "1/3"; });
  EXPECT_EQ(shard.message, "state file '" + db + "': belongs to shard 0/1, not 1/3");
  auto output = with([](StateIdentity& id) { id.output = "/tmp/other.jsonl"; });
  EXPECT_EQ(output.kind, StateError::Kind::mismatch);
  // The state is untouched by the refusals.
  EXPECT_TRUE(StateStore::open(db, identity()).has_value());
}

TEST(ScanState, NotAStateFile) {
  TempDir dir;
  auto text = (dir.path / "notes.txt").string();
  std::ofstream(text) << "this is not a database, it is a text file with enough bytes in it to matter\n";
  auto a = StateStore::open(text, identity());
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().kind, StateError::Kind::mismatch);
  EXPECT_NE(a.error().message.find("not a danekit scan state"), std::string::npos) << a.error().message;

  auto other = (dir.path / "other.db").string();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "CREATE TABLE tlsa_seen (owner TEXT)", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  auto b = StateStore::open(other, identity());
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().kind, StateError::Kind::mismatch);
}

TEST(ScanState, UnwritableAndBusy) {
  TempDir dir;
  auto missing = StateStore::open((dir.path / "no" / "such" / "s.db").string(), identity());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind, StateError::Kind::io);
  auto db = (dir.path / "s.db").string();
  auto first = StateStore::open(db, identity());
  ASSERT_TRUE(first.has_value());
  auto second = StateStore::open(db, identity());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().kind, StateError::Kind::io);
  EXPECT_NE(second.error().message.find("in use by another scan"), std::string::npos) << second.error().message;
}

TEST(ScanOptionsKey, FollowsResultAffectingOptionsOnly) {
  CheckOptions a;
  CheckOptions b = a;
  EXPECT_EQ(options_key(a), options_key(b));
  EXPECT_EQ(options_key(a).size(), 64u);
  b.policy.now = 12345;  // the clock is not an option
  EXPECT_EQ(options_key(a), options_key(b));
  for (auto change : std::vector<void (*)(CheckOptions&)>{
           [](CheckOptions& o) { o.helo = "other.example"; }, [](CheckOptions& o) { o.port = 2525; },
           [](CheckOptions& o) { o.policy.ipv6 = false; }, [](CheckOptions& o) { o.policy.warn_days = 30; },
           [](CheckOptions& o) { o.policy.insecure_mx = InsecureMxPolicy::may; },
           [](CheckOptions& o) { o.timeout = std::chrono::milliseconds(5000); },
           [](CheckOptions& o) { o.resolver.forwarder = "127.0.0.1"; }}) {
    CheckOptions c = a;
    change(c);
    EXPECT_NE(options_key(a), options_key(c));
  }
  // Files count by their contents, not their names.
  TempDir dir;
  std::ofstream(dir.path / "ta1") << ". DS 20326 8 2 ABCD\n";
  std::ofstream(dir.path / "ta2") << ". DS 20326 8 2 ABCD\n";
  std::ofstream(dir.path / "ta3") << ". DS 38696 8 2 ABCD\n";
  CheckOptions t1 = a, t2 = a, t3 = a;
  t1.resolver.trust_anchor_file = (dir.path / "ta1").string();
  t2.resolver.trust_anchor_file = (dir.path / "ta2").string();
  t3.resolver.trust_anchor_file = (dir.path / "ta3").string();
  EXPECT_EQ(options_key(t1), options_key(t2));
  EXPECT_NE(options_key(t1), options_key(t3));
  EXPECT_NE(options_key(a), options_key(t1));
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ScanJsonl, WholeLinesInBatches) {
  TempDir dir;
  auto path = dir.path / "out.jsonl";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  JsonlWriter w(fd);
  w.add(R"({"a":1})");
  w.add("broken\nline");
  EXPECT_EQ(w.buffered_lines(), 2u);
  EXPECT_EQ(slurp(path), "");  // nothing until flush
  ASSERT_TRUE(w.flush().has_value());
  EXPECT_EQ(w.offset(), 20u);
  EXPECT_EQ(w.written(), 2u);
  EXPECT_EQ(slurp(path), "{\"a\":1}\nbroken line\n");
  ::close(fd);
}

TEST(ScanJsonl, AFailedWriteLeavesOnlyWholeLines) {
  TempDir dir;
  auto path = dir.path / "out.jsonl";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  JsonlWriter w(fd);
  w.add(std::string(100, 'a'));
  ASSERT_TRUE(w.flush().has_value());
  // A file size limit lets the next batch out only in part (EFBIG after that).
  struct rlimit old {};
  ::getrlimit(RLIMIT_FSIZE, &old);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = old;
  lim.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
  for (int i = 0; i < 10; ++i) w.add(std::string(1000, 'b'));
  auto r = w.flush();
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(slurp(path), std::string(100, 'a') + "\n");
  EXPECT_EQ(w.offset(), 101u);
  EXPECT_EQ(w.buffered_lines(), 10u);
  ::close(fd);

  int full = ::open("/dev/full", O_WRONLY);
  ASSERT_GE(full, 0);
  JsonlWriter f(full);
  f.add("x");
  auto e = f.flush();
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error(), "No space left on device");
  ::close(full);
}

}  // namespace
}  // namespace danekit::scan
