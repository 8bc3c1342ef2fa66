#include "scan/state_store.h"

#include <sqlite3.h>

#include <fmt/format.h>
#include <charconv>
#include <map>

#include "scan/input_reader.h"

namespace danekit::scan {

namespace {

constexpr const char* kFormat = "danekit.scan-state/1";

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

std::uint64_t to_u64(const std::string& s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

StateError StateStore::fail(StateError::Kind kind, const std::string& what) const {
  return StateError{kind, fmt::format("state file '{}': {}", printable(path_), what)};
}

tl::expected<void, StateError> StateStore::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  if ((rc & 0xff) == SQLITE_NOTADB) {
    return tl::unexpected(fail(StateError::Kind::mismatch, fmt::format("not a danekit scan state ({})", msg)));
  }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    return tl::unexpected(fail(StateError::Kind::io, "in use by another scan"));
  }
  return tl::unexpected(fail(StateError::Kind::io, msg));
}

tl::expected<std::unique_ptr<StateStore>, StateError> StateStore::open(const std::string& path,
                                                                       const StateIdentity& id) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<StateStore> st(new StateStore(db, path));
  if (rc != SQLITE_OK) {
    return tl::unexpected(st->fail(StateError::Kind::io, db ? sqlite3_errmsg(db) : "out of memory"));
  }
  sqlite3_busy_timeout(db, 1000);
  // Exclusive locking: one scan per state file, and the WAL index lives in
  // process memory (no -shm file).
  for (const char* sql :
       {"PRAGMA locking_mode=EXCLUSIVE", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "BEGIN IMMEDIATE"}) {
    if (auto r = st->exec(sql); !r) return tl::unexpected(r.error());
  }
  std::map<std::string, std::string> meta;
  bool has_meta = false, has_other = false;
  {
    Stmt q;
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &q.s, nullptr);
    while (q.s && sqlite3_step(q.s) == SQLITE_ROW) {
      std::string name = reinterpret_cast<const char*>(sqlite3_column_text(q.s, 0));
      (name == "scan_meta" ? has_meta : has_other) = true;
    }
  }
  if (has_meta) {
    Stmt q;
    sqlite3_prepare_v2(db, "SELECT key, value FROM scan_meta", -1, &q.s, nullptr);
    while (q.s && sqlite3_step(q.s) == SQLITE_ROW) {
      const auto* k = sqlite3_column_text(q.s, 0);
      const auto* v = sqlite3_column_text(q.s, 1);
      if (k && v) meta[reinterpret_cast<const char*>(k)] = reinterpret_cast<const char*>(v);
    }
  }
  using K = StateError::Kind;
  if ((has_other && !has_meta) || (has_meta && meta["format"] != kFormat)) {
    return tl::unexpected(st->fail(K::mismatch, "not a danekit scan state"));
  }
  if (has_meta) {
    if (meta["input"] != id.input_digest) {
      return tl::unexpected(
          st->fail(K::mismatch, "belongs to a scan of different input (the input changed); use a new --state file"));
    }
    if (meta["options"] != id.options_key) {
      return tl::unexpected(st->fail(K::mismatch,
                                     "belongs to a scan with different options (resolver, trust anchor, root hints, "
                                     "-4/-6, --helo, --timeout, --days, --insecure-mx-policy or --port)"));
    }
    if (meta["shard"] != id.shard) {
      return tl::unexpected(
          st->fail(K::mismatch, fmt::format("belongs to shard {}, not {}", printable(meta["shard"]), id.shard)));
    }
    if (meta["output"] != id.output) {
      return tl::unexpected(st->fail(K::mismatch, fmt::format("belongs to output '{}', not '{}'",
                                                              printable(meta["output"]), printable(id.output))));
    }
    st->resumed_ = true;
    st->output_length_ = to_u64(meta["output_length"]);
    st->done_below_ = to_u64(meta["done_below"]);
    Stmt q;
    sqlite3_prepare_v2(db, "SELECT line FROM scan_done", -1, &q.s, nullptr);
    while (q.s && sqlite3_step(q.s) == SQLITE_ROW) {
      st->done_.insert(static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0)));
    }
  } else {
    if (auto r = st->exec("CREATE TABLE scan_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                          "CREATE TABLE scan_done (line INTEGER PRIMARY KEY)");
        !r) {
      return tl::unexpected(r.error());
    }
    Stmt ins;
    sqlite3_prepare_v2(db, "INSERT INTO scan_meta (key, value) VALUES (?, ?)", -1, &ins.s, nullptr);
    for (const auto& [k, v] : std::map<std::string, std::string>{{"format", kFormat},
                                                                 {"input", id.input_digest},
                                                                 {"options", id.options_key},
                                                                 {"shard", id.shard},
                                                                 {"output", id.output},
                                                                 {"output_length", "0"},
                                                                 {"done_below", "0"}}) {
      sqlite3_reset(ins.s);
      sqlite3_bind_text(ins.s, 1, k.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(ins.s, 2, v.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(ins.s) != SQLITE_DONE) return tl::unexpected(st->fail(K::io, sqlite3_errmsg(db)));
    }
  }
  if (auto r = st->exec("COMMIT"); !r) return tl::unexpected(r.error());
  return st;
}

StateStore::~StateStore() { sqlite3_close(db_); }

tl::expected<void, StateError> StateStore::commit(const std::vector<std::uint64_t>& lines, std::uint64_t watermark,
                                                  std::uint64_t output_length) {
  using K = StateError::Kind;
  watermark = std::max(watermark, done_below_);
  output_length = std::max(output_length, output_length_);
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  auto rollback = [&](const std::string& what) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return tl::unexpected(fail(K::io, what));
  };
  {
    Stmt ins;
    sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO scan_done (line) VALUES (?)", -1, &ins.s, nullptr);
    for (auto line : lines) {
      if (line < watermark) continue;
      sqlite3_reset(ins.s);
      sqlite3_bind_int64(ins.s, 1, static_cast<sqlite3_int64>(line));
      if (sqlite3_step(ins.s) != SQLITE_DONE) return rollback(sqlite3_errmsg(db_));
    }
    Stmt upd;
    sqlite3_prepare_v2(db_, "UPDATE scan_meta SET value = ? WHERE key = ?", -1, &upd.s, nullptr);
    for (const auto& [k, v] : {std::pair<const char*, std::uint64_t>{"output_length", output_length},
                               std::pair<const char*, std::uint64_t>{"done_below", watermark}}) {
      sqlite3_reset(upd.s);
      std::string text = std::to_string(v);
      sqlite3_bind_text(upd.s, 1, text.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(upd.s, 2, k, -1, SQLITE_STATIC);
      if (sqlite3_step(upd.s) != SQLITE_DONE) return rollback(sqlite3_errmsg(db_));
    }
    Stmt del;
    sqlite3_prepare_v2(db_, "DELETE FROM scan_done WHERE line < ?", -1, &del.s, nullptr);
    sqlite3_bind_int64(del.s, 1, static_cast<sqlite3_int64>(watermark));
    if (sqlite3_step(del.s) != SQLITE_DONE) return rollback(sqlite3_errmsg(db_));
  }
  if (auto r = exec("COMMIT"); !r) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return r;
  }
  for (auto line : lines) {
    if (line >= watermark) done_.insert(line);
  }
  std::erase_if(done_, [&](std::uint64_t l) { return l < watermark; });
  done_below_ = watermark;
  output_length_ = output_length;
  return {};
}

}  // namespace danekit::scan
