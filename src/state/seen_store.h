// Local state: when danekit first saw each TLSA record in DNS (SQLite). The
// rollover planner counts cache waits from these times. Internal to src/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <vector>

#include <tl/expected.hpp>

struct sqlite3;

namespace danekit {

class SeenStore {
 public:
  // Opens or creates the database at `path` (its directory must exist).
  static tl::expected<std::unique_ptr<SeenStore>, std::string> open(const std::string& path);
  ~SeenStore();

  // The first time (owner, record) was seen; records `now` if never seen.
  tl::expected<std::int64_t, std::string> observe(const std::string& owner, const std::string& record,
                                                  std::int64_t now);
  // Forgets records of `owner` not in the current RRset, so a record that is
  // withdrawn and later published again starts a new wait.
  tl::expected<void, std::string> keep_only(const std::string& owner, const std::vector<std::string>& records);

 private:
  explicit SeenStore(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// $DANEKIT_STATE, else $XDG_STATE_HOME/danekit/state.db, else
// ~/.local/state/danekit/state.db; creates the directory.
tl::expected<std::string, std::string> default_state_path();

}  // namespace danekit
