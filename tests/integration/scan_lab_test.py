#!/usr/bin/env python3
"""danekit scan against the lab, the way a user runs it.

- A scan of every manifest domain (including the bulk and hosted sets when the lab
  has them) gives each domain exactly one line that matches the manifest (verdict,
  delivery, per-MX dane and TLSA base, per-address outcome) and equals what
  `check --json` reports for it; the JSON summary's counts match the lines.
- SIGKILL mid-scan, then the same command again with --state: every domain
  exactly once, no torn line, and the second run did not redo the first's work.
- --shard 0/3, 1/3, 2/3: disjoint, their union is the full run, and each domain
  sits in the shard the documented hash (SHA-256) names.
- Bad input lines, unwritable output (missing directory, read-only directory,
  a write failing mid-scan) and a mismatched state file: one clear stderr line
  each, a distinct exit status, and nothing already written is lost.
- A progress line on a terminal, nothing on stderr otherwise.
"""
import hashlib
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import schemas
from labenv import finish, in_lab, lab_env, manifest

EXIT_OK, EXIT_BAD_LINES, EXIT_OUTPUT, EXIT_STATE, EXIT_USAGE = 0, 65, 73, 78, 64
TIMEOUT = "25"


def scan_args(env, binary, *extra):
    return [binary, "scan", "--trust-anchor", env["DANEKIT_LAB_TA"], "--root-hints", env["DANEKIT_LAB_HINTS"],
            "--timeout", TIMEOUT, *extra]


def read_lines(path):
    """Every line of a JSONL file: (parsed objects, problems)."""
    with open(path, "rb") as f:
        data = f.read()
    problems, objs = [], []
    if data and not data.endswith(b"\n"):
        problems.append(f"{path}: last line is torn ({data[-40:]!r})")
    for n, raw in enumerate(data.splitlines(), 1):
        try:
            objs.append(json.loads(raw))
        except ValueError:
            problems.append(f"{path} line {n} is not JSON: {raw[:60]!r}")
            continue
        # the first lines of every output against the check schema (all of them
        # would cost seconds per thousand in the bulk lab)
        if n <= 100:
            problems += [f"{path} line {n}: {p}" for p in schemas.validate(objs[-1])]
    return objs, problems


def once_each(objs, names, what):
    """Problems unless every name appears exactly once."""
    seen = {}
    for o in objs:
        seen[o["domain"]] = seen.get(o["domain"], 0) + 1
    problems = [f"{what}: {d} appears {n} times" for d, n in seen.items() if n != 1]
    missing = [d for d in names if d not in seen]
    extra = [d for d in seen if d not in set(names)]
    if missing:
        problems.append(f"{what}: missing {missing[:5]} ({len(missing)} in all)")
    if extra:
        problems.append(f"{what}: unexpected {extra[:5]}")
    return problems


def manifest_problems(d, r):
    problems = []
    for key in ("verdict", "delivery"):
        if r[key] != d[key]:
            problems.append(f"{key} {r[key]!r}, expected {d[key]!r}")
    for want in d.get("mx", []):
        got = next((m for m in r["mx"] if m["host"] == want["host"]), None)
        if got is None:
            problems.append(f"MX {want['host']} missing")
            continue
        for key in ("dane", "tlsa_base"):
            if want.get(key) and got[key] != want[key]:
                problems.append(f"{want['host']} {key} {got[key]!r}, expected {want[key]!r}")
        for wa in want.get("addresses", []):
            ga = next((a for a in got["addresses"] if a["address"] == wa["address"]), None)
            if ga is None:
                problems.append(f"{want['host']} address {wa['address']} missing")
            elif ga["outcome"] != wa["outcome"]:
                problems.append(f"{wa['address']} outcome {ga['outcome']!r}, expected {wa['outcome']!r}")
    return problems


def projection(r, details=True):
    """What must not differ between `scan` and `check --json` for one domain.
    details=False: only the outcome, for a domain whose name servers serve
    different data on purpose (which server a resolver asks decides the rest)."""
    p = {k: r[k] for k in ("schema", "domain", "verdict", "delivery", "determined", "exit_status")}
    if not r["determined"] or not details:
        return p  # timeouts (or the server asked) decide the details
    p["mx_answer"] = (r["mx_answer"]["security"], r["mx_answer"]["kind"])
    p["reasons"] = sorted((x["code"], x.get("host", ""), x.get("address", "")) for x in r["reasons"])
    p["mx"] = [(m["host"], m["preference"], m["dane"], m["tlsa_base"], m["dnssec"],
                sorted((x["record"]["text"], x["status"]) for x in m["records"]),  # RRset order is not stable
                sorted((a["address"], a["outcome"], a["stage"]) for a in m["addresses"])) for m in r["mx"]]
    return p


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("danekit:")]


def one_error(run, status, needle, what):
    """Problems unless the run exited `status` with exactly one error line containing `needle`."""
    problems = []
    lines = error_lines(run.stderr)
    if run.returncode != status:
        problems.append(f"{what}: exit {run.returncode}, expected {status} (stderr {run.stderr.strip()[:300]!r})")
    if len(lines) != 1 or needle not in lines[0]:
        problems.append(f"{what}: expected one error line with {needle!r}, got {lines}")
    return problems


def shard_of(domain, n):
    return int(hashlib.sha256(domain.encode()).hexdigest()[:16], 16) % n


def main(binary):
    env = lab_env()
    domains = manifest(env)
    by_name = {d["domain"]: d for d in domains}
    names = [d["domain"] for d in domains]
    core = [d["domain"] for d in domains if not d.get("set")]
    extra_sets = [d["domain"] for d in domains if d.get("set")]
    # The heavier runs (kill/resume, shards) take the core set and a sample of the others.
    sample = core + extra_sets[:: max(1, len(extra_sets) // 200)] if extra_sets else core
    work = tempfile.mkdtemp(prefix="danekit-scan-lab-")
    os.chmod(work, 0o755)
    failures, passed = [], 0

    def check(problems):
        nonlocal passed
        if problems:
            failures.extend(problems)
        else:
            passed += 1

    def path(name):
        return os.path.join(work, name)

    def write_input(name, lines):
        with open(path(name), "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return path(name)

    big = len(names) > 200
    concurrency = ["--concurrency", "256"] if big else []

    # 1. The whole manifest; one name given the way users type it (upper case, final dot).
    given = [n.upper() + "." if n == "ee311.example" else n for n in names]
    full_in = write_input("full.txt", ["# every lab domain", ""] + given)
    run = in_lab(env, scan_args(env, binary, *concurrency, "-o", path("full.jsonl"), "--summary",
                                path("full-summary.json"), full_in), timeout=3600)
    problems = []
    if run.returncode != EXIT_OK:
        problems.append(f"full scan: exit {run.returncode}: {run.stderr.strip()[:500]}")
    if run.stderr.strip():
        problems.append(f"full scan: stderr not empty without a terminal: {run.stderr.strip()[:300]!r}")
    full, torn = read_lines(path("full.jsonl"))
    problems += torn + once_each(full, names, "full scan")
    check(problems)
    full_by = {r["domain"]: r for r in full}
    for name in names:
        r = full_by.get(name)
        if r is None:
            continue
        p = manifest_problems(by_name[name], r)
        if p:
            failures.append(f"scan {name}: " + "; ".join(p))
        else:
            passed += 1

    # 2. scan equals check --json, domain by domain, with the same options (scan
    # does not ask for a second certificate unless told to).
    compare = core + extra_sets[:: max(1, len(extra_sets) // 100)] if extra_sets else core
    chk = in_lab(env, [binary, "check", "--no-other-certificate", "--trust-anchor", env["DANEKIT_LAB_TA"],
                       "--root-hints", env["DANEKIT_LAB_HINTS"], "--timeout", TIMEOUT, "--json", *compare],
                 timeout=3600)
    checked = {}
    for line in chk.stdout.splitlines():
        r = json.loads(line)
        checked[r["domain"]] = r
    for name in compare:
        if name not in checked or name not in full_by:
            failures.append(f"scan vs check {name}: missing from check ({name in checked}) or scan")
            continue
        varies = any(e.get("code") == "ns-tlsa-inconsistent" for e in by_name[name].get("dnssec_expect", []))
        a, b = projection(full_by[name], not varies), projection(checked[name], not varies)
        if a != b:
            diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
            failures.append(f"scan vs check {name}: {json.dumps(diff)[:600]}")
        else:
            passed += 1

    # 3. The summary counts what the lines say.
    with open(path("full-summary.json")) as f:
        summary = json.load(f)
    problems = []
    verdicts, deliveries, hosts = {}, {}, {}
    for r in full:
        verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
        deliveries[r["delivery"]] = deliveries.get(r["delivery"], 0) + 1
        for h in {m["host"] for m in r["mx"] if not m["implicit"]}:
            hosts[h] = hosts.get(h, 0) + 1
    if summary.get("schema") != "danekit.scan-summary/1" or summary.get("domains") != len(names):
        problems.append(f"summary: schema/domains {summary.get('schema')} {summary.get('domains')}")
    if {k: v for k, v in summary["verdicts"].items() if v} != verdicts:
        problems.append(f"summary verdicts {summary['verdicts']} != {verdicts}")
    if {k: v for k, v in summary["delivery"].items() if v} != deliveries:
        problems.append(f"summary delivery {summary['delivery']} != {deliveries}")
    shared = sorted(((-n, h) for h, n in hosts.items() if n >= 2))[:50]
    if [(x["host"], x["domains"]) for x in summary["mx_hosts"]] != [(h, -n) for n, h in shared]:
        problems.append(f"summary mx_hosts {summary['mx_hosts'][:5]} != {shared[:5]}")
    if not all(summary["limits"][k] > 0 for k in ("domains_in_flight", "per_ip", "threads")):
        problems.append(f"summary limits {summary['limits']}")
    if big and summary["limits"]["domains_in_flight"] != 256:
        problems.append(f"--concurrency 256 not in effect: {summary['limits']}")
    check(problems)

    # 4. SIGKILL mid-scan, then resume with the same state and output.
    quick = [n for n in sample if by_name[n]["verdict"] != "dnssec-failure" and "unreachable" not in n
             and not n.startswith("lame.")]
    resume_in = write_input("resume.txt", quick)
    argv = ["ip", "netns", "exec", env["DANEKIT_LAB_NS"]] + scan_args(
        env, binary, "--concurrency", "1", "--state", path("resume.db"), "-o", path("resume.jsonl"), "--summary",
        path("resume-summary.json"), resume_in)
    problems = []
    kills = 0
    for attempt in range(2):  # kill twice: a resumed scan must itself resume
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        start_lines = len(read_lines(path("resume.jsonl"))[0]) if os.path.exists(path("resume.jsonl")) else 0
        while time.time() < deadline and proc.poll() is None:
            n = len(read_lines(path("resume.jsonl"))[0]) if os.path.exists(path("resume.jsonl")) else 0
            if n >= start_lines + 3:
                break
            time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        proc.stderr.close()
    if kills == 0:
        problems.append("resume: the scan ended before it could be killed")
    run = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    if run.returncode != EXIT_OK:
        problems.append(f"resume: exit {run.returncode}: {run.stderr.strip()[:300]}")
    objs, torn = read_lines(path("resume.jsonl"))
    problems += torn + once_each(objs, quick, "resume")
    with open(path("resume-summary.json")) as f:
        rs = json.load(f)
    if not (rs["earlier"] > 0 and rs["checked"] < len(quick) and rs["domains"] == len(quick)):
        problems.append(f"resume: the last run did not resume (earlier {rs['earlier']}, checked {rs['checked']}, "
                        f"domains {rs['domains']} of {len(quick)})")
    for r in objs:
        if r["domain"] in full_by and r["verdict"] != full_by[r["domain"]]["verdict"]:
            problems.append(f"resume: {r['domain']} verdict {r['verdict']} != {full_by[r['domain']]['verdict']}")
    # Run again when done: nothing to do, nothing changes.
    before = open(path("resume.jsonl"), "rb").read()
    again = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if again.returncode != EXIT_OK or open(path("resume.jsonl"), "rb").read() != before:
        problems.append(f"resume: a finished state re-run changed the output or failed ({again.returncode})")
    check(problems)

    # 5. A mismatched state file: refused, the output untouched.
    before = open(path("resume.jsonl"), "rb").read()
    other_in = write_input("other.txt", quick[:2])
    for what, args in (("other input", ["--state", path("resume.db"), "-o", path("resume.jsonl"), other_in]),
                       ("other options", ["--days", "30", "--state", path("resume.db"), "-o", path("resume.jsonl"),
                                          resume_in]),
                       ("other shard", ["--shard", "1/2", "--state", path("resume.db"), "-o", path("resume.jsonl"),
                                        resume_in])):
        run = in_lab(env, scan_args(env, binary, "--summary", path("x.json"), *args))
        p = one_error(run, EXIT_STATE, "state file", f"mismatched state ({what})")
        if open(path("resume.jsonl"), "rb").read() != before:
            p.append(f"mismatched state ({what}): the output was changed")
        check(p)
    with open(path("notastate.db"), "w") as f:
        f.write("just text, not a database at all, long enough to be read as a header by SQLite\n" * 3)
    run = in_lab(env, scan_args(env, binary, "--summary", path("x.json"), "--state", path("notastate.db"), "-o",
                                path("y.jsonl"), other_in))
    check(one_error(run, EXIT_STATE, "not a danekit scan state", "a text file as state"))

    # 6. Shards: disjoint, the union is the full run, the documented hash.
    shard_in = write_input("shard.txt", sample)
    problems, union = [], []
    for k in range(3):
        out = path(f"shard{k}.jsonl")
        run = in_lab(env, scan_args(env, binary, *concurrency, "--shard", f"{k}/3", "-o", out, "--summary",
                                    path(f"shard{k}.json"), shard_in), timeout=3600)
        if run.returncode != EXIT_OK:
            problems.append(f"shard {k}/3: exit {run.returncode}: {run.stderr.strip()[:300]}")
        objs, torn = read_lines(out)
        problems += torn
        for r in objs:
            if shard_of(r["domain"], 3) != k:
                problems.append(f"shard {k}/3 holds {r['domain']}, which hashes to {shard_of(r['domain'], 3)}")
            if r["domain"] in full_by and r["determined"] and r["verdict"] != full_by[r["domain"]]["verdict"]:
                problems.append(f"shard {k}/3: {r['domain']} verdict differs from the full run")
        union += objs
    problems += once_each(union, sample, "union of shards")
    check(problems)

    # 7. Bad input lines (from standard input): one line each, with its number; the rest is scanned.
    good = quick[:3]
    lines = ["# comment", good[0], "two words.example", "", "bad..example", "x" * 2000, good[1], "nul\0here.example",
             good[2].upper()]
    run = in_lab(env, scan_args(env, binary, "-o", path("bad.jsonl"), "--summary", path("bad.json"), "-"),
                 input="\n".join(lines) + "\n")
    problems = []
    errs = error_lines(run.stderr)
    if run.returncode != EXIT_BAD_LINES:
        problems.append(f"bad lines: exit {run.returncode}, expected {EXIT_BAD_LINES}: {run.stderr.strip()[:300]}")
    want = [3, 5, 6, 8]
    got = [int(e.split("input line ")[1].split(":")[0]) if "input line " in e else None for e in errs]
    if got != want:
        problems.append(f"bad lines: error lines {errs}, expected lines {want}")
    objs, torn = read_lines(path("bad.jsonl"))
    problems += torn + once_each(objs, good, "bad lines")
    with open(path("bad.json")) as f:
        if json.load(f)["bad_lines"] != 4:
            problems.append("bad lines: summary does not count 4 bad lines")
    check(problems)

    # Hostile input: /dev/zero and a directory end at once with one line, exit 64.
    for what, src in (("/dev/zero", "/dev/zero"), ("a directory", work)):
        run = in_lab(env, scan_args(env, binary, "--summary", path("x.json"), src), timeout=60)
        check(one_error(run, EXIT_USAGE, "input", what))

    # 8. Unwritable output: before scanning when it can be known.
    run = in_lab(env, scan_args(env, binary, "-o", "/nonexistent/x", resume_in))
    check(one_error(run, EXIT_OUTPUT, "/nonexistent/x", "-o /nonexistent/x") +
          ([f"-o /nonexistent/x: something was scanned: {run.stderr[:200]}"] if "verdicts" in run.stderr else []))
    ro = path("ro")
    os.mkdir(ro)
    os.chmod(ro, 0o555)
    # As root a read-only directory is writable: run as nobody (the lab files are world-readable).
    for f in (resume_in,):
        os.chmod(f, 0o644)
    run = in_lab(env, ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] +
                 scan_args(env, binary, "-o", os.path.join(ro, "out.jsonl"), resume_in))
    check(one_error(run, EXIT_OUTPUT, "Permission denied", "read-only directory"))
    # A write failing mid-scan (a file size limit): one line, and the whole lines written before it stay.
    # The list four times over (about 2.5 KB a line) against 120 kB: a few batches get out, then one fails.
    long_in = write_input("long.txt", quick * 4)
    limited = ["prlimit", "--fsize=120000"] + scan_args(env, binary, "--concurrency", "1", "-o", path("limit.jsonl"),
                                                         "--summary", path("limit.json"), long_in)
    run = in_lab(env, limited, timeout=900)
    problems = one_error(run, EXIT_OUTPUT, "File too large", "write failing mid-scan")
    objs, torn = read_lines(path("limit.jsonl"))
    problems += torn
    errs = error_lines(run.stderr)
    if errs and f"; {len(objs)} domains written" not in errs[0]:
        problems.append(f"write failing mid-scan: message {errs} but {len(objs)} lines in the file")
    if not 0 < len(objs) < 4 * len(quick) or os.path.getsize(path("limit.jsonl")) > 120000:
        problems.append(f"write failing mid-scan: {len(objs)} lines of {4 * len(quick)} kept")
    check(problems)
    run = in_lab(env, scan_args(env, binary, "-o", "/dev/full", "--summary", path("x.json"), resume_in))
    check(one_error(run, EXIT_OUTPUT, "No space left on device", "-o /dev/full"))

    # 9. Progress on a terminal, and the human summary on stderr.
    master, slave = pty.openpty()
    proc = subprocess.Popen(["ip", "netns", "exec", env["DANEKIT_LAB_NS"]] +
                            scan_args(env, binary, "-o", path("tty.jsonl"), write_input("tty.txt", quick[:4])),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        r, _, _ = select.select([master], [], [], 120)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(master)
    text = seen.decode(errors="replace")
    problems = []
    if "\x1b[K" not in text or "/4 domains" not in text or "/s" not in text:
        problems.append(f"progress: no progress line on a terminal: {text[:300]!r}")
    if "danekit scan: 4 domains" not in text or "verdicts:" not in text or "limits:" not in text:
        problems.append(f"progress: no human summary on stderr: {text[-400:]!r}")
    check(problems)

    shutil.rmtree(work, ignore_errors=True)
    finish("lab scan", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1])
