// The writers of `rollover precheck` and `rollover deploy` (JSON and text).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "danekit/report.h"
#include "danekit/rollover_report.h"
#include "danekit/version.h"
#include "report/shapes.h"
#include "util/hex.h"

namespace danekit {

namespace {

using json = nlohmann::ordered_json;

json nullable(const std::string& s) { return s.empty() ? json() : json(s); }

json hosts_json(const PrecheckRun& run) {
  json hosts = json::array();
  for (const auto& h : run.hosts) {
    json matching = json::array();
    for (const auto& r : h.result.matching) matching.push_back(report::tlsa_record(r));
    hosts.push_back({{"host", h.host},
                     {"owner", h.owner},
                     {"safe", h.determined && h.result.safe},
                     {"determined", h.determined},
                     {"reason", h.result.reason},
                     {"safe_from", h.result.safe_from ? json(iso8601(*h.result.safe_from)) : json()},
                     {"matching", matching},
                     {"error", nullable(h.error)}});
  }
  return hosts;
}

json precheck_body(const PrecheckRun& run) {
  return {{"certificate", run.certificate},
          {"spki_sha256", nullable(run.spki_sha256)},
          {"safe", run.safe()},
          {"hosts", hosts_json(run)}};
}

std::string result_of(const DeployRun& run) {
  if (run.status == deploy_status::locked) return "locked";
  if (!run.error.empty()) return run.status == deploy_status::usage ? "no-staging-directory" : "bad-staging";
  if (run.entries.empty()) return "nothing-staged";
  for (auto o : {DeployOutcome::bad_staging, DeployOutcome::install_failed, DeployOutcome::reload_failed,
                 DeployOutcome::undetermined, DeployOutcome::refused})
    if (exit_status_for(o) == run.status) return std::string(to_string(o));
  return "deployed";
}

std::string mode_text(unsigned mode) { return fmt::format("{:04o}", mode); }

std::string who(const DeployEntry& e) {
  return e.meta.host.empty() ? (e.meta.domain.empty() ? std::string("?") : e.meta.domain) : e.meta.host;
}

}  // namespace

std::string to_json(const PrecheckRun& run) {
  json j{{"schema", "danekit.rollover-precheck/1"}, {"danekit", std::string(kVersion)}};
  json body = precheck_body(run);
  for (auto& [k, v] : body.items()) j[k] = v;
  j["exit_status"] = exit_status_for(run);
  return j.dump();
}

std::string render_text(const PrecheckRun& run) {
  std::string out;
  for (const auto& h : run.hosts) {
    if (h.determined && h.result.safe)
      out += fmt::format("safe: {}: {}\n", h.host, h.result.reason);
    else
      out += fmt::format("UNSAFE: {}: {}{}\n", h.host, h.result.reason,
                         h.result.safe_from ? fmt::format("; safe from {}", iso8601(*h.result.safe_from)) : "");
  }
  return out;
}

std::string to_json(const DeployRun& run) {
  json entries = json::array();
  for (const auto& e : run.entries) {
    json installed = json::array();
    for (const auto& f : e.installed)
      installed.push_back({{"role", f.role},
                           {"target", f.target},
                           {"backup", nullable(f.backup)},
                           {"mode", mode_text(f.mode)},
                           {"changed", f.changed}});
    json reload;
    if (e.reload)
      reload = {{"command", e.reload->command},
                {"exit_code", e.reload->exit_code},
                {"timed_out", e.reload->timed_out},
                {"output", e.reload->output}};
    bool read = !e.meta.host.empty() || !e.meta.domain.empty();  // false: deploy.conf did not parse
    entries.push_back({{"name", e.name},
                       {"outcome", to_string(e.outcome)},
                       {"exit_status", exit_status_for(e.outcome)},
                       {"error", nullable(e.error)},
                       {"host", nullable(e.meta.host)},
                       {"domain", nullable(e.meta.domain)},
                       {"port", read ? json(e.meta.port) : json()},
                       {"targets",
                        {{"key", nullable(e.meta.key_target)},
                         {"chain", nullable(e.meta.chain_target)},
                         {"combined", nullable(e.meta.combined_target)}}},
                       {"precheck", e.precheck.hosts.empty() ? json() : precheck_body(e.precheck)},
                       {"installed", installed},
                       {"reload", reload},
                       {"staged_removed", e.staged_removed}});
  }
  return json{{"schema", "danekit.rollover-deploy/1"},
              {"danekit", std::string(kVersion)},
              {"staged_dir", run.staged_dir},
              {"result", result_of(run)},
              {"exit_status", run.status},
              {"error", nullable(run.error)},
              {"entries", entries}}
      .dump();
}

std::string render_text(const DeployRun& run) {
  if (!run.error.empty()) return "";
  if (run.entries.empty()) return fmt::format("nothing staged in {}\n", run.staged_dir);
  std::string out;
  for (const auto& e : run.entries) {
    switch (e.outcome) {
      case DeployOutcome::deployed: {
        std::vector<std::string> files;
        for (const auto& f : e.installed)
          files.push_back(f.changed ? fmt::format("{} ({}{})", f.target, mode_text(f.mode),
                                                  f.backup.empty() ? "" : ", old copy " + f.backup)
                                    : fmt::format("{} (unchanged)", f.target));
        out += fmt::format("deployed: {} for {}: installed {}", e.name, who(e), fmt::join(files, ", "));
        if (e.reload)
          out += fmt::format("; reload `{}` exit {}", sanitize_for_display(e.reload->command), e.reload->exit_code);
        out += e.staged_removed ? "; staged copy removed\n" : fmt::format("; {}\n", e.error);
        break;
      }
      case DeployOutcome::refused:
      case DeployOutcome::undetermined:
        if (!e.error.empty() && e.precheck.hosts.empty())
          out += fmt::format("undetermined: {} for {}: {}; kept staged, try later\n", e.name, who(e), e.error);
        for (const auto& h : e.precheck.hosts) {
          if (h.determined && h.result.safe) continue;
          out += fmt::format("{}: {} for {}: {}{}; kept staged, try later\n", h.determined ? "refused" : "undetermined",
                             e.name, h.host, h.result.reason,
                             h.result.safe_from ? fmt::format("; safe from {}", iso8601(*h.result.safe_from)) : "");
        }
        break;
      default: break;
    }
  }
  return out;
}

std::vector<std::string> deploy_errors(const DeployRun& run) {
  std::vector<std::string> out;
  if (!run.error.empty()) out.push_back(run.error);
  for (const auto& e : run.entries)
    if (e.outcome == DeployOutcome::bad_staging || e.outcome == DeployOutcome::install_failed ||
        e.outcome == DeployOutcome::reload_failed)
      out.push_back(fmt::format("{}/{}: {}: {}", run.staged_dir, e.name, to_string(e.outcome), e.error));
  return out;
}

}  // namespace danekit
