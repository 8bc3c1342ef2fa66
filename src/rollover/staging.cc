// Staged certificates: the deploy.conf format (pure), the staging directory's
// checks and lock, and `rollover stage`, which writes an entry atomically.
//
// The staging directory is trusted input for a root process: an entry names
// files it overwrites and a command it runs. So every directory and file read
// from it must belong to the effective user and be writable by nobody else,
// symbolic links are not followed, every read is bounded, and the metadata is
// parsed strictly (unknown keys, repeats and control characters are errors).
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "danekit/keys.h"
#include "danekit/rollover.h"
#include "rollover/staging_io.h"

namespace danekit {

namespace {

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Absolute, canonical (no empty, "." or ".." component, no trailing "/"),
// printable, at most 1024 bytes.
std::string path_error(std::string_view key, std::string_view p) {
  if (p.empty()) return "";
  if (p.size() > 1024) return fmt::format("{}: longer than 1024 bytes", key);
  if (has_control(p)) return fmt::format("{}: control characters in the path", key);
  if (p.front() != '/') return fmt::format("{}: not an absolute path", key);
  if (p.size() == 1 || p.back() == '/') return fmt::format("{}: names a directory, not a file", key);
  std::string_view rest = p.substr(1);
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..")
      return fmt::format("{}: not a canonical path (empty, \".\" or \"..\" component)", key);
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return "";
}

}  // namespace

bool valid_staged_name(std::string_view name) {
  if (name.empty() || name.size() > 100 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::string staged_metadata_error(const StagedMetadata& m) {
  if (m.host.empty() == m.domain.empty()) return "give exactly one of host and domain";
  for (const auto* name : {&m.host, &m.domain})
    if (!name->empty()) {
      auto n = normalize_domain(*name);
      if (!n) return fmt::format("{}: {}", name == &m.host ? "host" : "domain", n.error());
      if (*n != *name) return fmt::format("{}: not normalized (expected {})", name == &m.host ? "host" : "domain", *n);
    }
  if (m.port == 0) return "port: must be between 1 and 65535";
  if (m.key_target.empty() != m.chain_target.empty()) return "key_target and chain_target go together";
  if (m.key_target.empty() && m.combined_target.empty())
    return "no target: give key_target and chain_target, or combined_target";
  for (const auto& [key, p] : {std::pair{"key_target", &m.key_target}, std::pair{"chain_target", &m.chain_target},
                               std::pair{"combined_target", &m.combined_target}})
    if (auto e = path_error(key, *p); !e.empty()) return e;
  std::vector<std::string> targets;
  for (const auto* p : {&m.key_target, &m.chain_target, &m.combined_target})
    if (!p->empty()) {
      if (std::find(targets.begin(), targets.end(), *p) != targets.end())
        return fmt::format("{} is named as two targets", *p);
      targets.push_back(*p);
    }
  if (m.reload.size() > 1024) return "reload: longer than 1024 bytes";
  if (has_control(m.reload)) return "reload: control characters in the command";
  if (m.reload_timeout < 1 || m.reload_timeout > 600) return "reload_timeout: must be between 1 and 600 seconds";
  return "";
}

tl::expected<StagedMetadata, std::string> parse_staged_metadata(std::string_view text) {
  if (text.size() > kMaxStagedMetadataBytes)
    return tl::unexpected(fmt::format("longer than {} bytes", kMaxStagedMetadataBytes));
  if (text.find('\0') != std::string_view::npos) return tl::unexpected(std::string("contains a NUL byte"));
  StagedMetadata m;
  m.port = 25;
  std::vector<std::string> seen;
  bool format_seen = false;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (raw.size() > 2048) return tl::unexpected(fmt::format("line {}: longer than 2048 bytes", line_no));
    auto line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) return tl::unexpected(fmt::format("line {}: not \"key = value\"", line_no));
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (has_control(value)) return tl::unexpected(fmt::format("line {}: control characters in {}", line_no, key));
    if (!format_seen) {
      if (key != "format") return tl::unexpected(fmt::format("line {}: the first setting must be format", line_no));
      if (value != kStagedFormat)
        return tl::unexpected(fmt::format("line {}: format {} is not {}", line_no, value.substr(0, 40), kStagedFormat));
      format_seen = true;
      continue;
    }
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return tl::unexpected(fmt::format("line {}: {} given twice", line_no, key));
    seen.push_back(key);
    auto number = [&](int lo, int hi) -> tl::expected<int, std::string> {
      int v = 0;
      if (value.empty() || value.size() > 6 || !std::all_of(value.begin(), value.end(), ::isdigit))
        return tl::unexpected(fmt::format("line {}: {} is not a number", line_no, key));
      v = std::stoi(value);
      if (v < lo || v > hi)
        return tl::unexpected(fmt::format("line {}: {} must be between {} and {}", line_no, key, lo, hi));
      return v;
    };
    if (key == "host" || key == "domain") {
      auto n = normalize_domain(value);
      if (!n) return tl::unexpected(fmt::format("line {}: {}: {}", line_no, key, n.error()));
      (key == "host" ? m.host : m.domain) = *n;
    } else if (key == "port") {
      auto v = number(1, 65535);
      if (!v) return tl::unexpected(v.error());
      m.port = static_cast<std::uint16_t>(*v);
    } else if (key == "reload_timeout") {
      auto v = number(1, 600);
      if (!v) return tl::unexpected(v.error());
      m.reload_timeout = *v;
    } else if (key == "key_target") {
      m.key_target = value;
    } else if (key == "chain_target") {
      m.chain_target = value;
    } else if (key == "combined_target") {
      m.combined_target = value;
    } else if (key == "reload") {
      m.reload = value;
    } else {
      return tl::unexpected(fmt::format("line {}: unknown key {}", line_no, key.substr(0, 40)));
    }
  }
  if (!format_seen) return tl::unexpected(fmt::format("no \"format = {}\" line", kStagedFormat));
  if (auto e = staged_metadata_error(m); !e.empty()) return tl::unexpected(e);
  return m;
}

std::string format_staged_metadata(const StagedMetadata& m) {
  std::string out = fmt::format("format = {}\n", kStagedFormat);
  if (!m.host.empty()) out += fmt::format("host = {}\n", m.host);
  if (!m.domain.empty()) out += fmt::format("domain = {}\n", m.domain);
  out += fmt::format("port = {}\n", m.port);
  if (!m.key_target.empty()) out += fmt::format("key_target = {}\nchain_target = {}\n", m.key_target, m.chain_target);
  if (!m.combined_target.empty()) out += fmt::format("combined_target = {}\n", m.combined_target);
  if (!m.reload.empty()) out += fmt::format("reload = {}\n", m.reload);
  out += fmt::format("reload_timeout = {}\n", m.reload_timeout);
  return out;
}

namespace staging {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

std::string ownership_fault(const struct stat& st, bool secret) {
  if (st.st_uid != ::geteuid()) return fmt::format("owned by uid {}, not by uid {}", st.st_uid, ::geteuid());
  if (st.st_mode & 022) return fmt::format("writable by group or others (mode {:04o})", st.st_mode & 07777);
  if (secret && (st.st_mode & 077)) return fmt::format("readable by group or others (mode {:04o})", st.st_mode & 07777);
  return "";
}

}  // namespace

tl::expected<Fd, DirError> open_staging_dir(const std::string& path, bool create) {
  if (path.empty() || has_control(path)) return tl::unexpected(DirError{deploy_status::usage, "bad staging directory"});
  if (create) {
    std::error_code ec;
    std::filesystem::path p(path);
    if (p.has_parent_path() && !std::filesystem::exists(p.parent_path(), ec))
      std::filesystem::create_directories(p.parent_path(), ec);
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      return tl::unexpected(
          DirError{deploy_status::install_failed, fmt::format("{}: cannot create: {}", path, std::strerror(errno))});
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int status = errno == ENOENT ? deploy_status::usage : deploy_status::bad_staging;
    return tl::unexpected(DirError{status, fmt::format("{}: {}", path, std::strerror(errno))});
  }
  Fd dir(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return tl::unexpected(DirError{deploy_status::bad_staging, path + ": cannot stat"});
  if (auto why = ownership_fault(st, false); !why.empty())
    return tl::unexpected(
        DirError{deploy_status::bad_staging, fmt::format("{}: unsafe staging directory: {}", path, why)});
  return dir;
}

bool lock_dir(const Fd& dir, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (true) {
    if (::flock(dir.get(), LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

tl::expected<std::vector<std::uint8_t>, std::string> read_trusted_file(int dirfd, const std::string& name,
                                                                       std::size_t limit, bool secret) {
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return tl::unexpected(fmt::format("{}: {}", name, std::strerror(errno)));
  Fd file(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return tl::unexpected(name + ": cannot stat");
  if (!S_ISREG(st.st_mode)) return tl::unexpected(name + ": not a regular file");
  if (auto why = ownership_fault(st, secret); !why.empty()) return tl::unexpected(fmt::format("{}: {}", name, why));
  if (static_cast<std::size_t>(st.st_size) > limit)
    return tl::unexpected(fmt::format("{}: larger than {} bytes", name, limit));
  std::vector<std::uint8_t> out(limit + 1);
  std::size_t got = 0;
  while (got < out.size()) {
    auto n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(fmt::format("{}: {}", name, std::strerror(errno)));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > limit) return tl::unexpected(fmt::format("{}: larger than {} bytes", name, limit));
  out.resize(got);
  return out;
}

tl::expected<Fd, std::string> open_trusted_subdir(int dirfd, const std::string& name) {
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return tl::unexpected(errno == ENOTDIR || errno == ELOOP ? std::string("not a directory")
                                                             : std::string(std::strerror(errno)));
  Fd sub(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return tl::unexpected(std::string("cannot stat"));
  if (auto why = ownership_fault(st, false); !why.empty()) return tl::unexpected(why);
  return sub;
}

tl::expected<void, std::string> write_new_file(int dirfd, const std::string& name,
                                               const std::vector<std::uint8_t>& data, unsigned mode) {
  int fd = ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return tl::unexpected(fmt::format("{}: {}", name, std::strerror(errno)));
  Fd file(fd);
  if (::fchmod(fd, mode) != 0) return tl::unexpected(fmt::format("{}: {}", name, std::strerror(errno)));
  std::size_t done = 0;
  while (done < data.size()) {
    auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(fmt::format("{}: {}", name, std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return tl::unexpected(fmt::format("{}: {}", name, std::strerror(errno)));
  return {};
}

void remove_tree(const std::string& dir, const std::string& name) {
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(dir) / name, ec);
}

}  // namespace staging

StageResult stage_certificate(const StageRequest& rq) {
  using namespace staging;
  StageResult out;
  auto fail = [&](int status, std::string message) {
    out.status = status;
    out.error = std::move(message);
    return out;
  };
  if (!valid_staged_name(rq.name))
    return fail(deploy_status::usage, "--name: 1-100 of A-Z a-z 0-9 . _ -, not starting with \".\"");
  if (auto e = staged_metadata_error(rq.meta); !e.empty()) return fail(deploy_status::usage, e);
  // The pair must belong together before anything is staged: a mismatched
  // key and chain would take the MTA's TLS down at the reload.
  auto chain_bytes = read_file_bytes(rq.cert_file);
  if (!chain_bytes) return fail(deploy_status::usage, "--cert " + chain_bytes.error());
  auto chain = parse_certificates(*chain_bytes);
  if (!chain) return fail(deploy_status::usage, "--cert " + rq.cert_file + ": " + chain.error());
  auto key_bytes = read_file_bytes(rq.key_file);
  if (!key_bytes) return fail(deploy_status::usage, "--key " + key_bytes.error());
  auto spki = parse_private_key(*key_bytes);
  if (!spki) return fail(deploy_status::usage, "--key " + rq.key_file + ": " + spki.error());
  if (!same_public_key(*spki, (*chain)[0].spki_der))
    return fail(deploy_status::usage,
                fmt::format("--key {} is not the key of the leaf certificate of --cert {}", rq.key_file, rq.cert_file));
  out.spki_sha256 = (*chain)[0].spki_sha256;

  auto dir = open_staging_dir(rq.staged_dir, true);
  if (!dir)
    return fail(dir.error().status == deploy_status::usage ? deploy_status::bad_staging : dir.error().status,
                dir.error().message);
  if (!lock_dir(*dir, rq.lock_wait))
    return fail(deploy_status::locked,
                fmt::format("{}: another danekit run held the lock for {} s", rq.staged_dir, rq.lock_wait));
  // Write everything under a "." name (never an entry), then swap it in.
  std::string tmp = fmt::format(".stage-{}-{}", rq.name, ::getpid());
  remove_tree(rq.staged_dir, tmp);
  if (::mkdirat(dir->get(), tmp.c_str(), 0700) != 0)
    return fail(deploy_status::install_failed, fmt::format("{}/{}: {}", rq.staged_dir, tmp, std::strerror(errno)));
  auto cleanup_fail = [&](std::string message) {
    remove_tree(rq.staged_dir, tmp);
    return fail(deploy_status::install_failed, fmt::format("{}/{}: {}", rq.staged_dir, rq.name, message));
  };
  {
    int fd = ::openat(dir->get(), tmp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return cleanup_fail(std::strerror(errno));
    Fd entry(fd);
    auto meta = format_staged_metadata(rq.meta);
    if (auto w = write_new_file(fd, kChainFile, *chain_bytes, 0644); !w) return cleanup_fail(w.error());
    if (auto w = write_new_file(fd, kKeyFile, *key_bytes, 0600); !w) return cleanup_fail(w.error());
    if (auto w = write_new_file(fd, kMetadataFile, std::vector<std::uint8_t>(meta.begin(), meta.end()), 0644); !w)
      return cleanup_fail(w.error());
    ::fsync(fd);
  }
  struct stat st {};
  if (::fstatat(dir->get(), rq.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    // An older staged copy: exchange the two atomically, then drop the old one.
    if (::renameat2(dir->get(), tmp.c_str(), dir->get(), rq.name.c_str(), RENAME_EXCHANGE) != 0)
      return cleanup_fail(fmt::format("cannot replace the staged copy: {}", std::strerror(errno)));
    out.replaced = true;
  } else if (::renameat2(dir->get(), tmp.c_str(), dir->get(), rq.name.c_str(), RENAME_NOREPLACE) != 0) {
    return cleanup_fail(std::strerror(errno));
  }
  remove_tree(rq.staged_dir, tmp);
  ::fsync(dir->get());
  out.entry = rq.staged_dir + "/" + rq.name;
  return out;
}

}  // namespace danekit
