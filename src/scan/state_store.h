// The state file of a resumable `danekit scan --state FILE` (SQLite, WAL).
//
// The scan writes its output in batches of whole lines; after each batch has
// been written it commits, in one transaction, the input line numbers the batch
// finished, the output file's new length, and a low-water mark: every input line
// below it is finished (or holds no domain). Rows below the mark are dropped, so
// the table stays about as small as the domains in flight.
//
// After a crash or SIGKILL the output file may hold more than was committed
// (a batch written but not committed, or a torn write): the scan truncates it
// to the committed length and redoes every line that is not recorded as done.
// Each domain then ends up in the output exactly once.
//
// A state belongs to one input (its bytes' fingerprint), one set of
// result-affecting options (the options key), one shard and one output file;
// opening it for anything else is refused. The database is held in SQLite's
// exclusive locking mode, so a second scan on the same state is refused too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <tl/expected.hpp>

struct sqlite3;

namespace danekit::scan {

struct StateIdentity {
  std::string input_digest;  // DomainReader::digest() of the whole input
  std::string options_key;   // options_key() of the check options
  std::string shard;         // "K/N" or "0/1"
  std::string output;        // absolute path of the output file
};

struct StateError {
  enum class Kind {
    io,        // cannot open, create, read or write the state file
    mismatch,  // the file is not a scan state, or belongs to another scan
  };
  Kind kind = Kind::io;
  std::string message;  // one line, names the file
};

class StateStore {
 public:
  static tl::expected<std::unique_ptr<StateStore>, StateError> open(const std::string& path,
                                                                    const StateIdentity& identity);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // True when the file already held this scan's state (a resume).
  bool resumed() const { return resumed_; }
  // The output length the last commit recorded (0 for a new state).
  std::uint64_t output_length() const { return output_length_; }
  std::uint64_t done_below() const { return done_below_; }
  // Whether input line `line` is finished (according to the last commit).
  bool done(std::uint64_t line) const { return line < done_below_ || done_.count(line) > 0; }

  // Records `lines` as finished, the output's whole-line length, and that every
  // line below `watermark` is finished. `watermark` and `output_length` never
  // go down.
  tl::expected<void, StateError> commit(const std::vector<std::uint64_t>& lines, std::uint64_t watermark,
                                        std::uint64_t output_length);

 private:
  StateStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  StateError fail(StateError::Kind kind, const std::string& what) const;
  tl::expected<void, StateError> exec(const char* sql);

  sqlite3* db_;
  std::string path_;
  bool resumed_ = false;
  std::uint64_t output_length_ = 0, done_below_ = 0;
  std::unordered_set<std::uint64_t> done_;
};

}  // namespace danekit::scan
