// `rollover deploy`: installs staged certificates once the precheck passes
// (docs/rollover.md "Deploying with a staged certificate").
//
// Order of work per entry, under the staging directory's lock: read and check
// the entry; precheck the staged chain on every host it is for; only then
// write each target beside itself and rename it into place (the replaced file
// kept as TARGET.danekit-backup), run the reload command with its timeout,
// and remove the entry. Anything short of success leaves the entry staged, so
// the next run (the systemd timer) tries again; files already holding exactly
// the staged content are left alone, so a retry never overwrites the backup
// with the new certificate.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "danekit/keys.h"
#include "danekit/rollover.h"
#include "rollover/staging_io.h"
#include "util/hex.h"

namespace danekit {

namespace {

using namespace staging;
using Bytes = std::vector<std::uint8_t>;

struct Target {
  std::string role, path;
  Bytes content;
  bool secret = false;
};

struct Prepared {
  Target target;
  std::string tmp;  // the new content, beside the target; "" when unchanged
  bool existed = false;
  InstalledFile result;
};

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? std::string("/") : path.substr(0, slash);
}

tl::expected<Bytes, std::string> read_target(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return tl::unexpected(std::string(std::strerror(errno)));
  Fd file(fd);
  Bytes out(kMaxPemBytes + 1);
  std::size_t got = 0;
  while (got < out.size()) {
    auto n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

// Writes the new content to a temporary file in the target's directory with
// the replaced file's owner and mode (a key: never group-writable nor
// readable by others; new keys 0600, new chains 0644).
tl::expected<Prepared, std::string> prepare(const Target& t) {
  Prepared p;
  p.target = t;
  p.result.role = t.role;
  p.result.target = t.path;
  std::string dir = parent_of(t.path);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return tl::unexpected(fmt::format("{}: cannot create: {}", dir, ec.message()));
    ::chmod(dir.c_str(), 0750);
  }
  struct stat st {};
  unsigned mode = t.secret ? 0600 : 0644;
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  if (::lstat(t.path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      return tl::unexpected(fmt::format("{} is a symbolic link; name the real file as the target", t.path));
    if (!S_ISREG(st.st_mode)) return tl::unexpected(fmt::format("{} is not a regular file", t.path));
    p.existed = true;
    mode = t.secret ? ((st.st_mode & 0640) | 0400) : (st.st_mode & 07777);
    uid = st.st_uid;
    gid = st.st_gid;
    auto old = read_target(t.path);
    if (old && *old == t.content) {
      p.result.changed = false;
      p.result.mode = st.st_mode & 07777;
      return p;
    }
  } else if (errno != ENOENT) {
    return tl::unexpected(fmt::format("{}: {}", t.path, std::strerror(errno)));
  }
  p.result.mode = mode;
  std::string tmpl = t.path + ".danekit-new-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return tl::unexpected(fmt::format("{}: cannot write beside it: {}", t.path, std::strerror(errno)));
  Fd file(fd);
  p.tmp = name.data();
  auto fail = [&](const char* what) -> tl::expected<Prepared, std::string> {
    std::string why = fmt::format("{}: {}: {}", p.tmp, what, std::strerror(errno));
    ::unlink(p.tmp.c_str());
    return tl::unexpected(why);
  };
  if (::fchmod(fd, mode) != 0) return fail("chmod");
  if ((uid != ::geteuid() || gid != ::getegid()) && ::fchown(fd, uid, gid) != 0) return fail("chown");
  std::size_t done = 0;
  while (done < t.content.size()) {
    auto n = ::write(fd, t.content.data() + done, t.content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync");
  return p;
}

// TARGET.danekit-backup becomes the file being replaced (a hard link, else a
// copy), itself replaced atomically.
tl::expected<std::string, std::string> back_up(const Prepared& p) {
  std::string backup = p.target.path + ".danekit-backup";
  std::string tmp = backup + ".tmp";
  ::unlink(tmp.c_str());
  if (::link(p.target.path.c_str(), tmp.c_str()) != 0) {
    std::error_code ec;
    if (!std::filesystem::copy_file(p.target.path, tmp, ec))
      return tl::unexpected(fmt::format("{}: cannot keep a backup: {}", p.target.path, ec.message()));
  }
  if (::rename(tmp.c_str(), backup.c_str()) != 0) {
    std::string why = fmt::format("{}: {}", backup, std::strerror(errno));
    ::unlink(tmp.c_str());
    return tl::unexpected(why);
  }
  return backup;
}

void sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Installs every target or none: a failed rename puts back what was renamed.
tl::expected<std::vector<InstalledFile>, std::string> install(const std::vector<Target>& targets) {
  std::vector<Prepared> ready;
  auto discard = [&] {
    for (const auto& p : ready)
      if (!p.tmp.empty()) ::unlink(p.tmp.c_str());
  };
  for (const auto& t : targets) {
    auto p = prepare(t);
    if (!p) {
      discard();
      return tl::unexpected(p.error());
    }
    ready.push_back(std::move(*p));
  }
  for (auto& p : ready) {
    if (p.tmp.empty() || !p.existed) continue;
    auto b = back_up(p);
    if (!b) {
      discard();
      return tl::unexpected(b.error());
    }
    p.result.backup = *b;
  }
  std::size_t renamed = 0;
  for (; renamed < ready.size(); ++renamed) {
    auto& p = ready[renamed];
    if (p.tmp.empty()) continue;
    if (::rename(p.tmp.c_str(), p.target.path.c_str()) != 0) break;
    p.tmp.clear();
  }
  if (renamed < ready.size()) {
    std::string why = fmt::format("{}: {}", ready[renamed].target.path, std::strerror(errno));
    for (std::size_t i = 0; i < renamed; ++i) {
      const auto& p = ready[i];
      if (!p.result.changed) continue;
      if (p.existed) {
        std::string back = p.target.path + ".danekit-restore";
        if (::link(p.result.backup.c_str(), back.c_str()) == 0) ::rename(back.c_str(), p.target.path.c_str());
      } else {
        ::unlink(p.target.path.c_str());
      }
    }
    discard();
    return tl::unexpected(why + " (nothing replaced)");
  }
  std::vector<InstalledFile> out;
  for (const auto& p : ready) {
    sync_dir(parent_of(p.target.path));
    out.push_back(p.result);
  }
  return out;
}

std::string first_line(const std::string& s) {
  auto line = s.substr(0, s.find('\n'));
  line = sanitize_for_display(line);
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

// /bin/sh -c COMMAND in its own process group, stdin /dev/null, output
// captured (first 4 KiB kept); killed (TERM, then KILL after 2 s) at the
// timeout.
ReloadRun run_reload(const std::string& command, int timeout_seconds, const std::vector<std::string>& env) {
  ReloadRun r;
  r.command = command;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    r.output = fmt::format("cannot run: {}", std::strerror(errno));
    return r;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    r.output = fmt::format("cannot run: {}", std::strerror(errno));
    ::close(fds[0]);
    ::close(fds[1]);
    return r;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(fds[1]);
  Fd out(fds[0]);
  std::string captured;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  int status = 0;
  bool exited = false, eof = false;
  while (!exited) {
    if (!eof) {
      pollfd p{out.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char buf[1024];
        auto n = ::read(out.get(), buf, sizeof buf);
        if (n > 0 && captured.size() < 4096) captured.append(buf, static_cast<std::size_t>(n));
        if (n == 0) eof = true;
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (::waitpid(pid, &status, WNOHANG) == pid) exited = true;
    if (!exited && std::chrono::steady_clock::now() >= deadline) {
      r.timed_out = true;
      ::kill(-pid, SIGTERM);
      auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (::waitpid(pid, &status, WNOHANG) != pid) {
        if (std::chrono::steady_clock::now() >= grace) {
          ::kill(-pid, SIGKILL);
          ::waitpid(pid, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      exited = true;
    }
  }
  ::kill(-pid, SIGKILL);  // whatever it left behind in its group
  // What is already in the pipe; a leftover holding it open costs nothing.
  ::fcntl(out.get(), F_SETFL, O_NONBLOCK);
  char buf[1024];
  ssize_t n;
  while (captured.size() < 4096 && (n = ::read(out.get(), buf, sizeof buf)) > 0)
    captured.append(buf, static_cast<std::size_t>(n));
  r.exit_code = !r.timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output = first_line(captured);
  return r;
}

int rank(int status) {
  switch (status) {
    case deploy_status::internal: return 7;
    case deploy_status::bad_staging: return 6;
    case deploy_status::install_failed: return 5;
    case deploy_status::reload_failed: return 4;
    case deploy_status::undetermined: return 3;
    case deploy_status::refused: return 2;
    default: return 0;
  }
}

DeployEntry deploy_one(const DeployOptions& o, int dirfd, const std::string& name) {
  DeployEntry e;
  e.name = name;
  auto bad = [&](std::string why) {
    e.outcome = DeployOutcome::bad_staging;
    e.error = std::move(why);
    return e;
  };
  auto sub = open_trusted_subdir(dirfd, name);
  if (!sub) return bad(sub.error());
  auto conf = read_trusted_file(sub->get(), kMetadataFile, kMaxStagedMetadataBytes, false);
  if (!conf) return bad(conf.error());
  auto meta = parse_staged_metadata(std::string_view(reinterpret_cast<const char*>(conf->data()), conf->size()));
  if (!meta) return bad(fmt::format("{}: {}", kMetadataFile, meta.error()));
  e.meta = *meta;
  auto chain_bytes = read_trusted_file(sub->get(), kChainFile, kMaxPemBytes, false);
  if (!chain_bytes) return bad(chain_bytes.error());
  auto key_bytes = read_trusted_file(sub->get(), kKeyFile, kMaxPemBytes, true);
  if (!key_bytes) return bad(key_bytes.error());
  auto chain = parse_certificates(*chain_bytes);
  if (!chain) return bad(fmt::format("{}: {}", kChainFile, chain.error()));
  auto spki = parse_private_key(*key_bytes);
  if (!spki) return bad(fmt::format("{}: {}", kKeyFile, spki.error()));
  if (!same_public_key(*spki, (*chain)[0].spki_der))
    return bad(fmt::format("{} is not the key of the leaf certificate in {}", kKeyFile, kChainFile));

  // The precheck decides, exactly as `rollover precheck` would for this chain.
  KeySource candidate{fmt::format("staged {}", name), *chain, (*chain)[0].spki_der};
  RolloverOptions ro = o.rollover;
  ro.port = e.meta.port;
  std::vector<std::string> hosts;
  if (!e.meta.host.empty()) {
    hosts = {e.meta.host};
  } else {
    ro.extra_names = {e.meta.domain};  // the next-hop domain (RFC 7672 §3.2.2)
    auto mx = lookup_mx_hosts(e.meta.domain, ro.resolver);
    if (!mx) {
      e.outcome = DeployOutcome::undetermined;
      e.error = fmt::format("the MX hosts of {}: {}", e.meta.domain, mx.error());
      return e;
    }
    hosts = *mx;
  }
  e.precheck = precheck_hosts(ro, hosts, candidate);
  int pre = exit_status_for(e.precheck);
  if (pre == deploy_status::undetermined) {
    e.outcome = DeployOutcome::undetermined;
    for (const auto& h : e.precheck.hosts)
      if (!h.determined) e.error = fmt::format("{}: {}", h.host, h.result.reason);
    return e;
  }
  if (pre != 0) {
    e.outcome = DeployOutcome::refused;
    return e;
  }

  // Safe: install. Key, chain, then the combined file (key first, as
  // Postfix's smtpd_tls_chain_files wants it).
  std::vector<Target> targets;
  if (!e.meta.key_target.empty()) {
    targets.push_back({"key", e.meta.key_target, *key_bytes, true});
    targets.push_back({"chain", e.meta.chain_target, *chain_bytes, false});
  }
  if (!e.meta.combined_target.empty()) {
    Bytes both = *key_bytes;
    if (!both.empty() && both.back() != '\n') both.push_back('\n');
    both.insert(both.end(), chain_bytes->begin(), chain_bytes->end());
    targets.push_back({"combined", e.meta.combined_target, both, true});
  }
  auto installed = install(targets);
  if (!installed) {
    e.outcome = DeployOutcome::install_failed;
    e.error = installed.error();
    return e;
  }
  e.installed = *installed;
  if (!e.meta.reload.empty()) {
    std::vector<std::string> env{"DANEKIT_KEY=" + e.meta.key_target, "DANEKIT_CHAIN=" + e.meta.chain_target,
                                 "DANEKIT_COMBINED=" + e.meta.combined_target,
                                 "DANEKIT_HOST=" + (e.meta.host.empty() ? e.meta.domain : e.meta.host),
                                 "DANEKIT_STAGED_NAME=" + name};
    e.reload = run_reload(e.meta.reload, e.meta.reload_timeout, env);
    if (e.reload->exit_code != 0) {
      e.outcome = DeployOutcome::reload_failed;
      e.error = e.reload->timed_out ? fmt::format("the reload command timed out after {} s", e.meta.reload_timeout)
                                    : fmt::format("the reload command exited {}{}", e.reload->exit_code,
                                                  e.reload->output.empty() ? "" : ": " + e.reload->output);
      return e;
    }
  }
  // Done: out of the way first (a "." name is no entry), then removed.
  std::string gone = fmt::format(".done-{}-{}", name, ::getpid());
  if (::renameat(dirfd, name.c_str(), dirfd, gone.c_str()) == 0) {
    remove_tree(o.staged_dir, gone);
    e.staged_removed = true;
  } else {
    e.error = fmt::format("installed, but the staged copy could not be removed: {}", std::strerror(errno));
  }
  e.outcome = DeployOutcome::deployed;
  return e;
}

}  // namespace

std::string_view to_string(DeployOutcome o) {
  switch (o) {
    case DeployOutcome::deployed: return "deployed";
    case DeployOutcome::refused: return "refused";
    case DeployOutcome::undetermined: return "undetermined";
    case DeployOutcome::bad_staging: return "bad-staging";
    case DeployOutcome::install_failed: return "install-failed";
    case DeployOutcome::reload_failed: return "reload-failed";
  }
  return "bad-staging";
}

int exit_status_for(DeployOutcome o) {
  switch (o) {
    case DeployOutcome::deployed: return deploy_status::done;
    case DeployOutcome::refused: return deploy_status::refused;
    case DeployOutcome::undetermined: return deploy_status::undetermined;
    case DeployOutcome::bad_staging: return deploy_status::bad_staging;
    case DeployOutcome::install_failed: return deploy_status::install_failed;
    case DeployOutcome::reload_failed: return deploy_status::reload_failed;
  }
  return deploy_status::internal;
}

DeployRun deploy_staged(const DeployOptions& o) {
  DeployRun run;
  run.staged_dir = o.staged_dir;
  auto dir = open_staging_dir(o.staged_dir, false);
  if (!dir) {
    run.status = dir.error().status;
    run.error = dir.error().message;
    return run;
  }
  if (!lock_dir(*dir, o.lock_wait)) {
    run.status = deploy_status::locked;
    run.error = fmt::format("{}: another danekit run held the lock for {} s", o.staged_dir, o.lock_wait);
    return run;
  }
  // The entries: every name not starting with "."; anything else is a fault.
  std::vector<std::string> names;
  std::error_code ec;
  std::filesystem::directory_iterator it(o.staged_dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.front() == '.') continue;
    if (!o.only_name.empty() && name != o.only_name) continue;
    if (!valid_staged_name(name)) {
      run.status = deploy_status::bad_staging;
      run.error = fmt::format("{}: an entry named \"{}\" (expected 1-100 of A-Z a-z 0-9 . _ -)", o.staged_dir,
                              sanitize_for_display(name.substr(0, 100)));
      return run;
    }
    if (names.size() >= kMaxStagedEntries) {
      run.status = deploy_status::bad_staging;
      run.error = fmt::format("{}: more than {} staged entries", o.staged_dir, kMaxStagedEntries);
      return run;
    }
    names.push_back(name);
  }
  if (ec) {
    run.status = deploy_status::bad_staging;
    run.error = fmt::format("{}: {}", o.staged_dir, ec.message());
    return run;
  }
  std::sort(names.begin(), names.end());
  int worst = 0;
  for (const auto& name : names) {
    run.entries.push_back(deploy_one(o, dir->get(), name));
    int s = exit_status_for(run.entries.back().outcome);
    if (rank(s) > rank(worst)) worst = s;
  }
  run.status = worst;
  return run;
}

}  // namespace danekit
