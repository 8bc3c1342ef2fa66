#include "state/seen_store.h"

#include <sqlite3.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace danekit {

namespace {

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

tl::expected<std::unique_ptr<SeenStore>, std::string> SeenStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string err = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return tl::unexpected(fmt::format("state file '{}': {}", path, err));
  }
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  if (sqlite3_exec(db,
                   "CREATE TABLE IF NOT EXISTS tlsa_seen (owner TEXT NOT NULL, record TEXT NOT NULL, "
                   "first_seen INTEGER NOT NULL, PRIMARY KEY (owner, record))",
                   nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(db);
    return tl::unexpected(fmt::format("state file '{}': {}", path, msg));
  }
  return std::unique_ptr<SeenStore>(new SeenStore(db));
}

SeenStore::~SeenStore() { sqlite3_close(db_); }

tl::expected<std::int64_t, std::string> SeenStore::observe(const std::string& owner, const std::string& record,
                                                           std::int64_t now) {
  Stmt ins;
  sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO tlsa_seen (owner, record, first_seen) VALUES (?, ?, ?)", -1, &ins.s,
                     nullptr);
  sqlite3_bind_text(ins.s, 1, owner.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(ins.s, 2, record.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(ins.s, 3, now);
  if (sqlite3_step(ins.s) != SQLITE_DONE) return tl::unexpected(fmt::format("state: {}", sqlite3_errmsg(db_)));
  Stmt sel;
  sqlite3_prepare_v2(db_, "SELECT first_seen FROM tlsa_seen WHERE owner = ? AND record = ?", -1, &sel.s, nullptr);
  sqlite3_bind_text(sel.s, 1, owner.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(sel.s, 2, record.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(sel.s) != SQLITE_ROW) return tl::unexpected(fmt::format("state: {}", sqlite3_errmsg(db_)));
  return sqlite3_column_int64(sel.s, 0);
}

tl::expected<void, std::string> SeenStore::keep_only(const std::string& owner,
                                                     const std::vector<std::string>& records) {
  Stmt sel;
  sqlite3_prepare_v2(db_, "SELECT record FROM tlsa_seen WHERE owner = ?", -1, &sel.s, nullptr);
  sqlite3_bind_text(sel.s, 1, owner.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<std::string> gone;
  while (sqlite3_step(sel.s) == SQLITE_ROW) {
    std::string r = reinterpret_cast<const char*>(sqlite3_column_text(sel.s, 0));
    if (std::find(records.begin(), records.end(), r) == records.end()) gone.push_back(r);
  }
  for (const auto& r : gone) {
    Stmt del;
    sqlite3_prepare_v2(db_, "DELETE FROM tlsa_seen WHERE owner = ? AND record = ?", -1, &del.s, nullptr);
    sqlite3_bind_text(del.s, 1, owner.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(del.s, 2, r.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(del.s) != SQLITE_DONE) return tl::unexpected(fmt::format("state: {}", sqlite3_errmsg(db_)));
  }
  return {};
}

tl::expected<std::string, std::string> default_state_path() {
  namespace fs = std::filesystem;
  if (const char* p = std::getenv("DANEKIT_STATE"); p && *p) return std::string(p);
  fs::path dir;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) {
    dir = fs::path(x) / "danekit";
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    dir = fs::path(h) / ".local" / "state" / "danekit";
  } else {
    return tl::unexpected(std::string("no HOME: give --state FILE"));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return tl::unexpected(fmt::format("cannot create state directory '{}': {}", dir.string(), ec.message()));
  return (dir / "state.db").string();
}

}  // namespace danekit
