#!/usr/bin/env python3
"""danekit scan --queue on a real PostgreSQL 15, against the lab, as users run it.

Starts its own PostgreSQL server (initdb in a temporary directory, unix socket
only, as the unprivileged postgres user) and removes it at the end. Then:
  - an unreachable queue (no server, refused TCP port) and a malformed URL: one
    line on stderr, exit 69 / 64;
  - processes that open a fresh database at once: one schema, no race;
  - --enqueue of the lab's domains (with a comment, a blank and a bad line);
  - a worker with other result-affecting options is refused;
  - three workers in the lab namespace, one killed with SIGKILL while it holds
    leases: the others take its domains back, every domain is done exactly once;
  - --status while running and at the end;
  - --export equals a one-machine `danekit check --json` of the same domains
    (verdict, delivery, per-MX dane) and the lab manifest;
  - a second run on domains behind shared MX hosts (the hosted set when the lab
    has one, and share-ta1/2): three workers probe every (address, MX host) once
    in all, counted at the receiving Postfix and in the scan_handshake table;
  - SIGTERM: a worker finishes what it has, gives back the rest, exits 143.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from labenv import count_sessions, danekit_args, finish, in_lab, lab_env, lab_set, manifest

PG_BIN = "/usr/lib/postgresql/15/bin"
TIMEOUT = "12"  # --timeout for every check here (lame domains take this long)
failures, passed = [], 0


def check(ok, what):
    global passed
    if ok:
        passed += 1
    else:
        failures.append(what)
    return ok


class Postgres:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="danekit-pg-")
        os.chmod(self.dir, 0o755)
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = os.path.join(self.dir, "data")
        self.proc = None
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust",
                        "-U", "postgres", "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(
            ["runuser", "-u", "postgres", "--", f"{PG_BIN}/postgres", "-D", self.data, "-c", "listen_addresses=",
             "-c", f"unix_socket_directories={self.dir}", "-c", "fsync=off", "-c", "max_connections=60"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(self.dir, ".s.PGSQL.5432")):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not start: " + open(os.path.join(self.dir, "server.log")).read())
            time.sleep(0.1)
        self.url = f"postgresql:///postgres?host={self.dir}&user=postgres"

    def sql(self, query, db="postgres"):
        out = subprocess.run(["psql", "-h", self.dir, "-U", "postgres", "-d", db, "-XAtq", "-v", "ON_ERROR_STOP=1",
                              "-c", query], check=True, capture_output=True, text=True, timeout=30).stdout
        return [line.split("|") for line in out.splitlines() if line]

    def stop(self):
        # The postmaster's own pid (runuser is its parent), then runuser.
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                os.kill(int(f.readline()), signal.SIGINT)  # fast shutdown
        except (OSError, ValueError):
            pass
        if self.proc:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def root_flags(env):
    return ["--trust-anchor", env["DANEKIT_LAB_TA"], "--root-hints", env["DANEKIT_LAB_HINTS"], "--timeout", TIMEOUT]


def scan(binary, env, url, *args, lab=False, timeout=120, extra_env=None):
    argv = [binary, "scan", "--queue", url, *root_flags(env), *args]
    e = dict(os.environ, **(extra_env or {}))
    if lab:
        return in_lab(env, argv, timeout=timeout, env=e)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=e)


def start_worker(binary, env, url, run, extra_env):
    argv = ["ip", "netns", "exec", env["DANEKIT_LAB_NS"], binary, "scan", "--queue", url, *root_flags(env),
            "--worker", "--run", run]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **extra_env))


def status_fields(text):
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
    return fields


def one_line_error(r, status, words, what):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(r.returncode == status and len(lines) == 1 and lines[0].startswith("danekit: ") and words in lines[0],
          f"{what}: exit {r.returncode} (want {status}), stderr {r.stderr.strip()!r}")


def unreachable(binary, env, pg):
    t0 = time.monotonic()
    r = scan(binary, env, f"postgresql:///postgres?host={pg.dir}/nothing-here&user=postgres", "--status")
    one_line_error(r, 69, "queue unavailable", "queue without a server")
    r = scan(binary, env, "postgresql://danekit@127.0.0.1:1/scan", "--status")
    one_line_error(r, 69, "queue unavailable", "queue on a refused TCP port")
    r = scan(binary, env, "postgresql://[::1", "--status")
    one_line_error(r, 64, "queue URL", "malformed queue URL")
    check(time.monotonic() - t0 < 20, "unreachable queues took too long")


def concurrent_schema(binary, env, pg):
    pg.sql("CREATE DATABASE fresh")
    url = f"postgresql:///fresh?host={pg.dir}&user=postgres"
    procs = [subprocess.Popen([binary, "scan", "--queue", url, *root_flags(env), "--status", "--run", "nope"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
    bad = [(rc, err.strip()) for rc, err in results if rc != 64 or "no run 'nope'" not in err]
    check(not bad, f"concurrent first opens: {bad}")
    rows = pg.sql("SELECT version FROM danekit.schema_version", db="fresh")
    check(rows == [["1"]], f"schema_version after concurrent opens: {rows}")


def worker_stats(stderr):
    """The worker's last stderr line: '... handshake store: A acquires, H from other workers, ...'."""
    for line in reversed(stderr.splitlines()):
        if "handshake store:" in line:
            part = line.split("handshake store:", 1)[1]
            nums = [int(w) for w in part.replace(",", " ").split() if w.isdigit()]
            return dict(zip(["acquires", "hits", "waited", "probed", "saved", "errors"], nums))
    return None


def compare(name, got, want, keys=("verdict", "delivery")):
    problems = [f"{k} {got.get(k)!r}, expected {want.get(k)!r}" for k in keys if got.get(k) != want.get(k)]
    want_mx = {m["host"]: m.get("dane") for m in want.get("mx", [])}
    got_mx = {m["host"]: m.get("dane") for m in got.get("mx", [])}
    for host, dane in want_mx.items():
        if dane and got_mx.get(host) != dane:
            problems.append(f"MX {host} dane {got_mx.get(host)!r}, expected {dane!r}")
    return problems


def main(binary):
    env = lab_env()
    default = lab_set(env, "default")
    names = [d["domain"] for d in default]
    expect = {d["domain"]: d for d in manifest(env)}
    pg = Postgres()
    try:
        unreachable(binary, env, pg)
        concurrent_schema(binary, env, pg)

        # The one-machine result of the same domains with the same options.
        t0 = time.monotonic()
        local = in_lab(env, danekit_args(env, binary) + ["--json", "--timeout", TIMEOUT, *names], timeout=180)
        single = {json.loads(l)["domain"]: json.loads(l) for l in local.stdout.splitlines()}
        check(set(single) == set(names), f"check --json gave {len(single)} of {len(names)} reports")
        print(f"one-machine check of {len(names)} domains: {time.monotonic() - t0:.1f} s")

        work = tempfile.mkdtemp(prefix="danekit-pg-scan-")
        input_file = os.path.join(work, "domains.txt")
        with open(input_file, "w") as f:
            f.write("# the lab's default domains\n\n")
            f.write(names[0].upper() + "\n")  # names are normalized on the way in
            f.write("not..a.domain\n")
            f.write("\n".join(names[1:]) + "\n")
        r = scan(binary, env, pg.url, "--enqueue", input_file, "--run", "lab")
        check(r.returncode == 65 and "input line 4:" in r.stderr and f"{len(names)} domains added" in r.stdout,
              f"enqueue: exit {r.returncode}, stdout {r.stdout.strip()!r}, stderr {r.stderr.strip()!r}")
        r = scan(binary, env, pg.url, "--enqueue", input_file, "--run", "lab")
        check("0 domains added" in r.stdout and f"{len(names)} in the run" in r.stdout,
              f"enqueue again is not idempotent: {r.stdout.strip()!r}")

        r = scan(binary, env, pg.url, "--worker", "--run", "lab", "--helo", "other.invalid", lab=True)
        one_line_error(r, 64, "other result-affecting options", "worker with other options")

        # Three workers; one is killed with SIGKILL while it holds leases.
        tune = {"DANEKIT_QUEUE_LEASE": "4", "DANEKIT_QUEUE_HOLD": "3"}
        t0 = time.monotonic()
        workers = [start_worker(binary, env, pg.url, "lab", tune) for _ in range(3)]
        victim = workers[0]
        held, done_before = [], 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and victim.poll() is None:
            held = [row[0] for row in pg.sql(
                f"SELECT domain FROM danekit.scan_domain WHERE run = 'lab' AND state = 'leased' "
                f"AND leased_by LIKE '%:{victim.pid}:%'")]
            done_before = int(pg.sql("SELECT count(*) FROM danekit.scan_domain WHERE run = 'lab' AND "
                                     "state = 'done'")[0][0])
            if held and done_before > 0:
                break
            time.sleep(0.05)
        victim.kill()
        victim.wait()
        # What it held when it died: its leases are still recorded.
        held = [row[0] for row in pg.sql(
            f"SELECT domain FROM danekit.scan_domain WHERE run = 'lab' AND state = 'leased' "
            f"AND leased_by LIKE '%:{victim.pid}:%'")]
        check(bool(held), "the killed worker held no lease when it was killed")
        mid = scan(binary, env, pg.url, "--status", "--run", "lab")
        mid_fields = status_fields(mid.stdout)
        check(mid.returncode == 0 and mid_fields.get("total") == str(len(names)),
              f"--status during the run: exit {mid.returncode}, {mid.stdout!r}")
        outs = []
        for w in workers[1:]:
            try:
                out, err = w.communicate(timeout=150)
            except subprocess.TimeoutExpired:
                w.kill()
                out, err = w.communicate()
                failures.append("a worker did not finish within 150 s")
            outs.append((w.returncode, err))
            check(w.returncode == 0 and "finished, nothing left" in err,
                  f"surviving worker: exit {w.returncode}, stderr {err.strip()[-300:]!r}")
        print(f"3 workers, one killed holding {len(held)} domains: {time.monotonic() - t0:.1f} s")

        # Every domain the victim held was taken back and finished by another worker.
        rows = pg.sql("SELECT domain, attempts, done_by FROM danekit.scan_domain WHERE run = 'lab' AND domain = ANY('{"
                      + ",".join(held) + "}')")
        back = [r for r in rows if int(r[1]) >= 2 and f":{victim.pid}:" not in r[2]]
        check(len(back) == len(held), f"domains of the killed worker not taken back: {rows}")

        st = scan(binary, env, pg.url, "--status", "--run", "lab")
        f = status_fields(st.stdout)
        print(st.stdout, end="")
        check(st.returncode == 0 and f.get("total") == str(len(names)) and f.get("done", "").startswith(
            f"{len(names)} (100.0%)") and f.get("pending") == "0" and f.get("leased", "").startswith("0")
              and f.get("workers", "").startswith("3 seen") and int(f.get("retried", "0")) >= len(held)
              and "finished" in f.get("rate", ""), f"final --status: {st.stdout!r}")

        export = os.path.join(work, "export.jsonl")
        r = scan(binary, env, pg.url, "--export", "--run", "lab", "-o", export)
        check(r.returncode == 0 and not r.stderr.strip(), f"export: exit {r.returncode}, {r.stderr.strip()!r}")
        lines = open(export).read().splitlines()
        reports = [json.loads(l) for l in lines]
        got_names = [x["domain"] for x in reports]
        check(sorted(got_names) == sorted(names) and len(got_names) == len(set(got_names)),
              f"export holds {len(got_names)} lines for {len(names)} domains, "
              f"{len(got_names) - len(set(got_names))} repeated")
        check(all(x["schema"] == "danekit.check/1" for x in reports), "export: schema")
        for x in reports:
            name = x["domain"]
            if name in single:
                p = compare(name, x, single[name])
                check(not p, f"{name}: export vs check --json: " + "; ".join(p))
            p = compare(name, x, expect[name])
            check(not p, f"{name}: export vs manifest: " + "; ".join(p))

        shared_run(binary, env, pg, work, expect)
        sigterm(binary, env, pg, work, names)
        shutil.rmtree(work, ignore_errors=True)
    finally:
        pg.stop()
    finish("pg scan", failures, passed)


def shared_run(binary, env, pg, work, expect):
    """Domains behind shared MX hosts, spread over three workers one at a time:
    each (address, MX host) is probed once in the whole run."""
    hosted = [d for d in lab_set(env, "hosted") if d["verdict"] == "valid"]
    shared = [d for d in manifest(env) if d["domain"] in ("share-ta1.example", "share-ta2.example")]
    domains = hosted + shared
    if len(domains) < 2:
        failures.append("the lab has no domains with shared MX hosts")
        return
    by_address = {}
    for d in domains:
        for m in d.get("mx", []):
            for a in m.get("addresses", []):
                by_address.setdefault(a["address"], set()).add(m["host"])
    listeners = {l["address"]: l["syslog_name"] for l in manifest_listeners(env) if l["address"] in by_address}
    input_file = os.path.join(work, "shared.txt")
    with open(input_file, "w") as f:
        f.write("\n".join(d["domain"] for d in domains) + "\n")
    # With few domains, the first worker can finish one and claim the next
    # before the others have started; its own process then shares the session
    # and no worker needs another's. Such a run shows nothing about the store:
    # it is run again under a new name (at most 4 times), and the checks below
    # apply to the first run whose domains went to more than one worker.
    for attempt in range(4):
        run = "shared" if attempt == 0 else f"shared-{attempt + 1}"
        before = {a: count_sessions(env, s) for a, s in listeners.items()}
        r = scan(binary, env, pg.url, "--enqueue", input_file, "--run", run)
        check(r.returncode == 0, f"enqueue {run}: {r.returncode} {r.stderr.strip()!r}")
        t0 = time.monotonic()
        workers = [start_worker(binary, env, pg.url, run, {"DANEKIT_QUEUE_HOLD": "1"}) for _ in range(3)]
        stats = []
        for w in workers:
            try:
                _, err = w.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                w.kill()
                _, err = w.communicate()
            check(w.returncode == 0, f"shared-run worker exit {w.returncode}: {err.strip()[-300:]!r}")
            stats.append(worker_stats(err) or {})
        print(f"{run}, {len(domains)} domains on {len(by_address)} addresses, 3 workers: "
              f"{time.monotonic() - t0:.1f} s; store per worker: {stats}")
        if sum(1 for x in stats if x.get("acquires", 0) > 0) > 1:
            break
    after = {a: count_sessions(env, s) for a, s in listeners.items()}
    for a, hosts in sorted(by_address.items()):
        if a not in listeners:
            continue
        n = after[a] - before[a]
        check(n == len(hosts), f"{a} ({listeners[a]}): {n} SMTP sessions in the shared run, expected {len(hosts)}")
    hits = sum(s.get("hits", 0) for s in stats)
    check(hits > 0, f"no handshake came from another worker: {stats}")
    rows = pg.sql("SELECT count(*), count(*) FILTER (WHERE value IS NOT NULL), coalesce(sum(served), 0) "
                  "FROM danekit.scan_handshake WHERE run = '%s'" % run)[0]
    keys = sum(len(h) for h in by_address.values())
    check(int(rows[1]) >= keys and int(rows[2]) == hits,
          f"scan_handshake rows {rows} (keys {keys}, hits reported by the workers {hits})")
    export = os.path.join(work, "shared.jsonl")
    r = scan(binary, env, pg.url, "--export", "--run", run, "-o", export)
    reports = [json.loads(l) for l in open(export).read().splitlines()] if r.returncode == 0 else []
    check(sorted(x["domain"] for x in reports) == sorted(d["domain"] for d in domains),
          f"shared export: exit {r.returncode}, {len(reports)} lines")
    for x in reports:
        p = compare(x["domain"], x, expect[x["domain"]])
        check(not p, f"{x['domain']} (shared run): " + "; ".join(p))


def manifest_listeners(env):
    with open(env["DANEKIT_LAB_MANIFEST"]) as f:
        return json.load(f).get("listeners", [])


def sigterm(binary, env, pg, work, names):
    """SIGTERM while working: finish what is in flight, give the rest back, 143."""
    input_file = os.path.join(work, "term.txt")
    with open(input_file, "w") as f:
        f.write("\n".join(names) + "\n")
    scan(binary, env, pg.url, "--enqueue", input_file, "--run", "term")
    w = start_worker(binary, env, pg.url, "term", {"DANEKIT_QUEUE_HOLD": "4"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if pg.sql("SELECT count(*) FROM danekit.scan_domain WHERE run = 'term' AND state = 'leased'")[0][0] != "0":
            break
        time.sleep(0.05)
    w.send_signal(signal.SIGTERM)
    try:
        _, err = w.communicate(timeout=int(TIMEOUT) + 20)
    except subprocess.TimeoutExpired:
        w.kill()
        _, err = w.communicate()
    rows = pg.sql("SELECT state, count(*) FROM danekit.scan_domain WHERE run = 'term' GROUP BY state")
    states = {s: int(n) for s, n in rows}
    check(w.returncode == 143 and "stopped" in err and states.get("leased", 0) == 0 and states.get("done", 0) > 0
          and states.get("pending", 0) > 0,
          f"SIGTERM: exit {w.returncode}, states {states}, stderr {err.strip()[-300:]!r}")


if __name__ == "__main__":
    main(sys.argv[1])
