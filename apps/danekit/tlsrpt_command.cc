// danekit tlsrpt summarize FILE...: RFC 8460 aggregate reports as they arrive
// (JSON, gzip, a whole mail message) summed up per policy, MX host and result
// type (docs/cli.md "danekit tlsrpt summarize"). The reading of files is here;
// decoding, parsing and aggregation are the pure core (danekit/tlsrpt_*.h).
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "danekit/report.h"
#include "danekit/tlsrpt_report.h"
#include "danekit/tlsrpt_summary.h"
#include "danekit/version.h"
#include "util/hex.h"

namespace danekit::cli {

namespace {

// Exit status of `tlsrpt summarize` (docs/cli.md): 0 every file read, 65 some
// files unreadable (the others are summed up), 64 none readable or usage.
constexpr int kSomeFilesBad = 65;

struct TlsrptArgs {
  std::vector<std::string> files;
  FormatFlags format{"text"};
};

// The whole file, or why not; bounded whatever it is (a device, a pipe, an
// endless stream): one byte over the limit is enough to refuse it.
std::string read_bounded(const std::string& path, std::size_t max, std::string& error) {
  std::unique_ptr<FILE, int (*)(FILE*)> owned(nullptr, &std::fclose);
  FILE* f = stdin;
  if (path != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      error = "is a directory";
      return {};
    }
    owned.reset(std::fopen(path.c_str(), "rb"));
    if (!owned) {
      error = std::strerror(errno);
      return {};
    }
    f = owned.get();
  }
  std::string out;
  char buf[65536];
  for (;;) {
    std::size_t n = std::fread(buf, 1, sizeof buf, f);
    if (out.size() + n > max) {
      error = fmt::format("larger than {} MiB", max >> 20);
      return {};
    }
    out.append(buf, n);
    if (n < sizeof buf) break;
  }
  if (std::ferror(f)) {
    error = fmt::format("read error: {}", std::strerror(errno));
    return {};
  }
  return out;
}

int run_tlsrpt_summarize(const TlsrptArgs& a) {
  std::string format_error;
  auto format = chosen_format(a.format, {"text", "json"}, format_error);
  if (!format_error.empty()) return usage_error(format_error);
  std::size_t stdin_uses = 0;
  for (const auto& f : a.files) stdin_uses += f == "-";
  if (stdin_uses > 1) return usage_error("'-' (standard input) can be given once");

  TlsrptLimits limits;
  TlsrptSummary summary;
  for (const auto& file : a.files) {
    std::string error;
    std::string bytes = read_bounded(file, limits.max_input_bytes, error);
    if (error.empty()) {
      auto decoded = decode_tlsrpt_input(bytes, limits);
      if (!decoded.decoded) {
        error = decoded.error;
      } else {
        auto parsed = parse_tlsrpt_report(decoded.decoded->json, limits);
        if (parsed.report) {
          add_tlsrpt_report(summary, file, parsed);
          continue;
        }
        error = fmt::format("{}{}", parsed.error,
                            decoded.decoded->encoding == TlsrptEncoding::json
                                ? ""
                                : fmt::format(" (in the {} data)", to_string(decoded.decoded->encoding)));
      }
    }
    add_tlsrpt_error(summary, file, error);
    fmt::print(stderr, "danekit: {}: {}\n", sanitize_for_display(file == "-" ? "standard input" : file),
               sanitize_for_display(error));
  }
  if (summary.files_read == 0) return exit_status::usage;  // each file named on stderr above
  if (format == "json") {
    fmt::print("{}\n", tlsrpt_summary_json(summary, kVersion));
  } else {
    fmt::print("{}", tlsrpt_summary_text(summary));
  }
  return summary.errors.empty() ? 0 : kSomeFilesBad;
}

}  // namespace

void add_tlsrpt_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<TlsrptArgs>();
  auto* cmd = app.add_subcommand("tlsrpt", "SMTP TLS Reporting (RFC 8460): read the reports senders send");
  cmd->require_subcommand(1);
  auto* sum = cmd->add_subcommand("summarize",
                                  "Sum up aggregate reports (JSON, gzip or mail) per policy, MX host and result type");
  sum->add_option("file", a->files, "Report files (- for standard input)")->required();
  add_format_flags(*sum, a->format, "text or json (schema danekit.tlsrpt-summary/1)");
  sum->callback([a, &action] { action = [a] { return run_tlsrpt_summarize(*a); }; });
}

}  // namespace danekit::cli
