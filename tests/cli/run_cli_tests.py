#!/usr/bin/env python3
"""Golden tests for `danekit tlsa`: exact stdout, stderr and exit status.

Usage: run_cli_tests.py DANEKIT [--update] [NAME...]

Each line of cases.txt is "name [tag...] | arguments"; the arguments are shell
words (shlex) given to DANEKIT, run in tests/cli/data so file names in the
output are stable. Tags:
  escapes  the arguments hold Python escapes (\x1b, \r, \n) for bytes a
           cases.txt line cannot hold
  bounded  hostile input (a directory, /dev/zero, control bytes): besides the golden result,
           the run must end with exit 64 and exactly one line on stderr, within
           the bounds below (CPU seconds, peak resident memory, and address
           space when the binary is not built with AddressSanitizer, which
           reserves terabytes of address space up front); a run that exceeds
           the wall-clock bound is killed and fails. These bounds only catch
           endless loops and unbounded reads: the commands take milliseconds.
  same=NAME  the result must also equal case NAME's golden file byte for byte
           (one option spelled two ways: --json and --format json)
golden/NAME.out holds the expected result:

    exit N
    --- stdout
    ...
    --- stderr
    ...

--update rewrites the golden files from the current binary (review the diff
before committing). The data files are fixed certificates and keys made once
with openssl (see data/README).
"""
import difflib
import os
import resource
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
GOLDEN = os.path.join(HERE, "golden")

BOUND_WALL_SECONDS = 30
BOUND_CPU_SECONDS = 10
BOUND_RSS_MB = 300
BOUND_AS_MB = 2048


def load_cases():
    cases = []
    with open(os.path.join(HERE, "cases.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            head, _, args = line.partition("|")
            name, *tags = head.split()
            words = shlex.split(args.strip())
            if "escapes" in tags:
                words = [w.encode("ascii").decode("unicode_escape") for w in words]
            cases.append((name, words, set(tags)))
    return cases


def uses_asan(binary):
    with open(binary, "rb") as f:
        return b"libasan.so" in f.read()


def run(binary, args, bounded=False, asan=True, env_extra=None, cwd=DATA):
    """Runs DANEKIT; returns (golden text, exit status, stderr, peak RSS in MB, seconds)."""
    env = dict(os.environ, LC_ALL="C.UTF-8", NO_COLOR="1")
    env.pop("DANEKIT_UNBOUND_LOG", None)
    env.update(env_extra or {})

    def limits():
        if bounded:
            resource.setrlimit(resource.RLIMIT_CPU, (BOUND_CPU_SECONDS, BOUND_CPU_SECONDS))
            if not asan:
                resource.setrlimit(resource.RLIMIT_AS, (BOUND_AS_MB << 20, BOUND_AS_MB << 20))

    start = time.monotonic()
    p = subprocess.Popen([binary] + args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=limits)
    timer = threading.Timer(BOUND_WALL_SECONDS if bounded else 120, p.kill)
    timer.start()
    out = {}
    readers = [threading.Thread(target=lambda k, s: out.__setitem__(k, s.read()), args=(k, s))
               for k, s in (("out", p.stdout), ("err", p.stderr))]
    for t in readers:
        t.start()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    timer.cancel()
    for t in readers:
        t.join()
    seconds = time.monotonic() - start
    stdout = out["out"].decode("utf-8", "replace")
    stderr = out["err"].decode("utf-8", "replace")
    text = "exit {}\n--- stdout\n{}--- stderr\n{}".format(p.returncode, stdout, stderr)
    return text, p.returncode, stderr, usage.ru_maxrss / 1024.0, seconds


def bounded_problems(code, stderr, rss_mb):
    problems = []
    if code != 64:
        problems.append("exit {} (killed or over the CPU bound if negative), want 64".format(code))
    if stderr.count("\n") != 1 or not stderr.endswith("\n"):
        problems.append("stderr holds {} lines, want one".format(stderr.count("\n")))
    if rss_mb > BOUND_RSS_MB:
        problems.append("peak RSS {:.0f} MB over {} MB".format(rss_mb, BOUND_RSS_MB))
    return problems


def quiet_libunbound(binary, asan):
    """libunbound warns on stderr about a trust anchor with an algorithm it
    does not know, even at verbosity 0. danekit drops its lines unless
    DANEKIT_UNBOUND_LOG asks for them; the second run shows the first one
    provoked a line. The resolver is a closed local port, so every query
    fails at once."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "alg200.key"), "w") as f:
            f.write(". IN DS 12345 200 2 " + "00" * 32 + "\n")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        args = ["check", "--timeout", "3", "--trust-anchor", "alg200.key", "--resolver",
                "127.0.0.1@{}".format(port), "example.org"]
        _, code, quiet, _, _ = run(binary, args, asan=asan, cwd=tmp)
        _, _, loud, _, _ = run(binary, args, asan=asan, cwd=tmp, env_extra={"DANEKIT_UNBOUND_LOG": "0"})
        _, bad_code, bad, _, _ = run(binary, args, asan=asan, cwd=tmp, env_extra={"DANEKIT_UNBOUND_LOG": "x"})
    if "libunbound" in quiet or quiet.count("\n") > 1:
        problems.append("libunbound's lines reached stderr unasked: {!r}".format(quiet))
    if code == 64 or code < 0:
        problems.append("the quiet run ended with exit {}: {!r}".format(code, quiet))
    if "libunbound[" not in loud or "trust anchor" not in loud:
        problems.append("DANEKIT_UNBOUND_LOG=0 did not show libunbound's warning: {!r}".format(loud))
    if bad_code != 64 or bad.count("\n") != 1 or "DANEKIT_UNBOUND_LOG" not in bad:
        problems.append("DANEKIT_UNBOUND_LOG=x gave exit {} and {!r}".format(bad_code, bad))
    return problems


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    update = "--update" in sys.argv[2:]
    only = [a for a in sys.argv[2:] if not a.startswith("--")]
    failed = 0
    cases = [c for c in load_cases() if not only or c[0] in only]
    asan = uses_asan(binary)
    slowest = (0.0, "")
    for name, args, tags in cases:
        bounded = "bounded" in tags
        got, code, stderr, rss_mb, seconds = run(binary, args, bounded=bounded, asan=asan)
        path = os.path.join(GOLDEN, name + ".out")
        if update:
            # newline="": byte-exact, so CRLF output (mta-sts generate) stays CRLF.
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(got)
            continue
        try:
            with open(path, encoding="utf-8", newline="") as f:
                want = f.read()
        except FileNotFoundError:
            want = ""
        problems = bounded_problems(code, stderr, rss_mb) if bounded else []
        for tag in tags:
            if tag.startswith("same="):
                try:
                    with open(os.path.join(GOLDEN, tag[5:] + ".out"), encoding="utf-8", newline="") as f:
                        other = f.read()
                except FileNotFoundError:
                    other = None
                if other != got:
                    problems.append("differs from case {} (golden/{}.out)".format(tag[5:], tag[5:]))
        if bounded:
            slowest = max(slowest, (seconds, name))
        if got != want or problems:
            failed += 1
            print("FAIL {}: danekit {}".format(name, shlex.join(args)))
            for problem in problems:
                print("  " + problem)
            sys.stdout.writelines(difflib.unified_diff(
                want.splitlines(True), got.splitlines(True), "golden/" + name + ".out", "actual"))
        else:
            print("ok   {}{}".format(name, " ({:.2f} s, {:.0f} MB)".format(seconds, rss_mb) if bounded else ""))
    if not update and (not only or "quiet-libunbound" in only):
        problems = quiet_libunbound(binary, asan)
        for problem in problems:
            print("FAIL quiet-libunbound: " + problem)
        if problems:
            failed += 1
        else:
            print("ok   quiet-libunbound")
        cases.append(("quiet-libunbound", [], set()))
        if slowest[1]:
            print("slowest bounded case: {} ({:.2f} s)".format(slowest[1], slowest[0]))
    if update:
        print("updated {} golden files".format(len(cases)))
        return 0
    print("{} of {} cases passed".format(len(cases) - failed, len(cases)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
