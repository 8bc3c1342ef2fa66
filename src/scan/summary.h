// What a scan found, in aggregate: counts by verdict and by delivery, the
// reason codes that occur most, and the "provider" view: MX hosts ranked by how
// many of the scanned domains depend on them.
//
// The aggregate is built from DomainResult values, which come either from a
// fresh CheckReport or from a line of danekit.check/1 JSON already written (a
// resumed scan counts what the earlier run wrote, an export counts what the
// queue holds), so a summary always covers the whole output. Memory is bounded:
// at most kMaxTrackedHosts distinct MX hosts are tracked; domains that need more
// are still counted everywhere else, and the overflow is reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tl/expected.hpp>

#include "danekit/engine.h"
#include "danekit/report.h"

namespace danekit::scan {

inline constexpr std::size_t kMaxTrackedHosts = 1'000'000;

// The part of one domain's report the summary reads.
struct DomainResult {
  std::string verdict;   // "valid", ... as in danekit.check/1
  std::string delivery;  // "authenticated", ...
  bool determined = true;
  std::vector<std::string> reason_codes;                     // distinct
  std::vector<std::pair<std::string, std::string>> mx_dane;  // (host, dane state), distinct hosts
};

DomainResult domain_result(const CheckReport& report);
// From one line of `check --json` / `scan` output.
tl::expected<DomainResult, std::string> domain_result_from_json(std::string_view line);

struct HostCount {
  std::string host;
  std::uint64_t domains = 0;
  std::map<std::string, std::uint64_t> dane;  // dane state -> domains
};

// How the scan ran: everything the summary reports besides the results.
struct ScanContext {
  std::string input;                  // file name or "-"
  std::string shard;                  // "K/N", empty for the whole input
  std::uint64_t bad_lines = 0;        // bad input lines seen
  std::uint64_t earlier = 0;          // domains already in the output from an earlier run
  std::int64_t elapsed_ms = 0;        // this run
  std::uint64_t checked = 0;          // domains checked by this run
  std::size_t domains_in_flight = 0;  // effective engine limits
  std::size_t per_ip = 0;
  unsigned threads = 0;
  std::size_t connections = 0;
  EngineStats engine;    // what the engine did (lookups, sessions, shared answers)
  bool complete = true;  // false when the scan stopped early
};

class Summary {
 public:
  void add(const DomainResult& result);

  std::uint64_t domains() const { return domains_; }
  std::uint64_t undetermined() const { return undetermined_; }
  // Every verdict and delivery name of danekit.check/1, with 0 for those unseen.
  const std::map<std::string, std::uint64_t>& verdicts() const { return verdicts_; }
  const std::map<std::string, std::uint64_t>& deliveries() const { return deliveries_; }
  // Most frequent first, ties by name; at most `n`.
  std::vector<std::pair<std::string, std::uint64_t>> top_reasons(std::size_t n) const;
  // MX hosts by domains depending on them, most first, ties by name; only hosts
  // that at least `min_domains` domains use; at most `n`.
  std::vector<HostCount> top_hosts(std::size_t n, std::uint64_t min_domains = 2) const;
  std::uint64_t untracked_hosts() const { return untracked_; }

  // Schema danekit.scan-summary/1 (docs/cli.md), one line.
  std::string to_json(const ScanContext& context) const;
  // A few lines for a human, each ending in a newline.
  std::string to_text(const ScanContext& context) const;

  Summary();

 private:
  std::uint64_t domains_ = 0, undetermined_ = 0, untracked_ = 0;
  std::map<std::string, std::uint64_t> verdicts_, deliveries_;
  std::unordered_map<std::string, std::uint64_t> reasons_;
  std::unordered_map<std::string, HostCount> hosts_;
};

}  // namespace danekit::scan
