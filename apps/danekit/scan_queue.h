// `danekit scan --queue URL ...`: the PostgreSQL-backed distributed scan.
// scan_command.cc parses the shared flags and hands over here; scan_queue.cc
// (and src/queue/) implement it.
#pragma once

#include <string>

#include "danekit/engine.h"

namespace danekit::cli {

struct ScanQueueRequest {
  enum class Mode { enqueue, worker, status, export_run };
  Mode mode = Mode::status;
  std::string url;  // postgresql://... or a libpq conninfo string
  std::string run = "default";
  std::string input;        // enqueue: FILE or - (one domain per line, as scan reads it)
  std::string output;       // export: FILE, or empty / - for stdout
  EngineOptions engine;     // worker: the check and engine options, as for a local scan
  std::string options_key;  // a digest of the options that change results; a run refuses other workers' options
};

// Returns the process exit status (docs/cli.md); prints its own one-line errors.
int run_scan_queue(const ScanQueueRequest& request);

}  // namespace danekit::cli
