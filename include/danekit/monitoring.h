// The monitoring outputs of `danekit check` (docs/cli.md "Monitoring"): the
// status line and exit status of a monitoring plugin (Nagios, Icinga, Naemon,
// following the monitoring-plugins development guidelines) and the Prometheus
// text exposition format for node_exporter's textfile collector.
//
// Pure functions of CheckReport: no clock (the report's checked_at is "now"),
// no I/O. Invariants:
//  - the plugin line is one line, `DANE OK|WARNING|CRITICAL|UNKNOWN - summary`
//    then ` | ` and the performance data; the summary never holds '|' or a
//    control character, whatever the report's texts say;
//  - a value the report does not know is left out of the performance data and
//    of the metrics, never written as 0;
//  - Prometheus labels are `domain`, `mx`, `address`, and `verdict` on the one
//    state-set family: bounded values only, no hashes, serials or key data.
//
// Example:
//   NagiosResult n = to_nagios(report, {.warn_days = 21, .crit_days = 7});
//   fmt::print("{}\n", n.line);  // DANE OK - ee311.example: valid, ... | time=0.2s;;;0 ...
//   return n.status;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "danekit/report.h"

namespace danekit {

// Plugin exit statuses (monitoring-plugins guidelines, "Plugin Return Codes").
namespace plugin_status {
inline constexpr int ok = 0;
inline constexpr int warning = 1;
inline constexpr int critical = 2;
inline constexpr int unknown = 3;
}  // namespace plugin_status

// The earliest not-after, in seconds since the epoch, of a certificate whose
// dates decide DANE authentication of an address that authenticates: for a
// match by a DANE-TA(2) record, the served chain from the leaf up to the
// certificate at the match depth (the trust anchor; certificates above it are
// not part of the verified path). A DANE-EE(3) match ignores dates (RFC 7672
// §3.1.1) and contributes nothing, nor do addresses that do not authenticate.
// Both certificates of an address count (ProbeResult::alternate). nullopt
// when no date matters.
std::optional<std::int64_t> dane_expiry(const CheckReport& r);

// True when the report is not determined for a cause on danekit's side: the
// verdict `undetermined`, or a reason of the catalog's "local" group
// (local-*, resolver-unreachable, internal-error) on the domain or a host.
bool undetermined_locally(const CheckReport& r);

struct NagiosOptions {
  int warn_days = 21;        // WARNING when dane_expiry() is less than this many days away
  int crit_days = 7;         // CRITICAL below this; 0 <= crit_days <= warn_days
  bool expect_dane = false;  // verdict `none` is CRITICAL
};

// The plugin status of the verdict alone:
//   valid, none, no-mail -> OK (none -> CRITICAL with expect_dane);
//   partial, unusable -> WARNING; invalid, dnssec-failure -> CRITICAL;
//   not determined: CRITICAL when the cause is remote, UNKNOWN when local.
int nagios_verdict_status(const CheckReport& r, bool expect_dane);

struct NagiosResult {
  int status = plugin_status::unknown;
  std::string line;  // without a newline
};

// The verdict status, raised by the expiry thresholds (not when UNKNOWN: an
// unfinished check is not judged by dates). Performance data:
//   time=<seconds>s;;;0            how long the check took
//   addresses=N;;;0 authenticated=N;;;0   addresses probed, and authenticated
//   cert_days=N;W:;C:;;            whole days until dane_expiry(), when known
// There is no RRSIG expiry: the check's DNS answers carry no signature dates.
NagiosResult to_nagios(const CheckReport& r, const NagiosOptions& options);

// `DANE UNKNOWN - <message>` for a usage or internal error under --nagios.
std::string nagios_unknown_line(std::string_view message);

// The reports as Prometheus text format 0.0.4, each family once (HELP, TYPE,
// samples of every report), no timestamps (the textfile collector refuses
// them). A domain given twice is written once. Families: docs/cli.md.
std::string to_prometheus(const std::vector<CheckReport>& reports);

}  // namespace danekit
