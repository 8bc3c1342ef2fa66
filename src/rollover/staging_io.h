// File-system helpers shared by `rollover stage` and `rollover deploy`
// (src/rollover/staging.cc, deploy.cc): the staging directory, its lock, and
// bounded reads of files that a root process is about to trust.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace danekit::staging {

inline constexpr const char* kChainFile = "fullchain.pem";
inline constexpr const char* kKeyFile = "privkey.pem";
inline constexpr const char* kMetadataFile = "deploy.conf";
inline constexpr std::size_t kMaxPemBytes = 1024 * 1024;

// An open directory descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// Opens the staging directory: it must be a directory owned by the effective
// user and writable by nobody else (its entries name commands we run as that
// user). With `create`, makes it (mode 0700, parents 0755) when missing.
// Errors: {status, one line}; status 64 when it does not exist, 65 when unsafe.
struct DirError {
  int status;
  std::string message;
};
tl::expected<Fd, DirError> open_staging_dir(const std::string& path, bool create);

// Takes an exclusive flock(2) on the directory, waiting at most `seconds`.
// False when another holder kept it that long.
bool lock_dir(const Fd& dir, int seconds);

// Reads DIRFD/NAME: a regular file (no symbolic link), owned by the effective
// user, not writable by group or others (with `secret`, no group or other
// permission at all), at most `limit` bytes.
tl::expected<std::vector<std::uint8_t>, std::string> read_trusted_file(int dirfd, const std::string& name,
                                                                       std::size_t limit, bool secret);

// The same checks for a subdirectory entry; returns it opened.
tl::expected<Fd, std::string> open_trusted_subdir(int dirfd, const std::string& name);

// Writes DIRFD/NAME (new file, O_EXCL) with `mode`, fsynced.
tl::expected<void, std::string> write_new_file(int dirfd, const std::string& name,
                                               const std::vector<std::uint8_t>& data, unsigned mode);

// Removes DIR/NAME and everything under it (no symbolic link is followed).
void remove_tree(const std::string& dir, const std::string& name);

}  // namespace danekit::staging
