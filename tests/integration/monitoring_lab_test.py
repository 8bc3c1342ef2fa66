#!/usr/bin/env python3
"""danekit check --nagios and --format prometheus against the lab, as a
monitoring system runs them.

--nagios: every lab domain gets the plugin status its manifest verdict maps to
(docs/cli.md "Monitoring"), and its line parses with Debian's
libmonitoring-plugin-perl (tests/integration/nagios_perfdata.pl); the expiry
thresholds, --expect-dane, a local failure and usage errors give their
statuses. --format prometheus: the metrics of every lab domain pass `promtool
check metrics` and say the manifest's verdicts."""
import concurrent.futures
import os
import json
import re
import subprocess
import sys

from labenv import danekit_args, finish, in_lab, lab_env, lab_set

HERE = os.path.dirname(os.path.abspath(__file__))
PERL = os.path.join(HERE, "nagios_perfdata.pl")

# issue 7: valid, none, no-mail OK; partial, unusable WARNING; invalid,
# dnssec-failure CRITICAL (the lab's undetermined domain, lame.example, fails
# remotely: CRITICAL too).
STATUS = {"valid": 0, "none": 0, "no-mail": 0, "partial": 1, "unusable": 1, "invalid": 2, "dnssec-failure": 2}
WORD = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


PARSED = {}


def parse_lines(lines):
    """What libmonitoring-plugin-perl reads from each line (one perl for all
    lines not parsed before: it takes a moment to start)."""
    todo = [line for line in dict.fromkeys(lines) if line not in PARSED]
    if todo:
        run = subprocess.run(["perl", PERL], input="".join(line + "\n" for line in todo), capture_output=True,
                             text=True, timeout=60)
        if run.returncode != 0:
            raise RuntimeError(f"nagios_perfdata.pl failed: {run.stderr.strip()}")
        for line, out in zip(todo, run.stdout.splitlines()):
            PARSED[line] = json.loads(out)
    return [PARSED[line] for line in lines]


def nagios(env, binary, domain, *extra, timeout=20):
    run = in_lab(env, danekit_args(env, binary) + ["--nagios", "--timeout", str(timeout), *extra, domain],
                 timeout=timeout * 4)
    return run


def check_line(name, run, want_status, failures, want_perf=("time", "addresses", "authenticated")):
    """The exit status, one line, its status word, and perfdata every item of which parses."""
    lines = run.stdout.splitlines()
    if run.returncode != want_status:
        failures.append(f"{name}: exit {run.returncode}, expected {want_status} ({run.stdout.strip()!r})")
        return None
    if len(lines) != 1:
        failures.append(f"{name}: {len(lines)} lines on stdout, expected 1: {run.stdout!r}")
        return None
    p = parse_lines(lines)[0]
    if p.get("status") != WORD[want_status]:
        failures.append(f"{name}: status word {p.get('status')!r}, expected {WORD[want_status]!r}: {lines[0]!r}")
        return None
    labels = [x["label"] for x in p["perf"]]
    if len(p["perf"]) != p["items"] or any(w not in labels for w in want_perf):
        failures.append(f"{name}: perfdata {p['perfstring']!r} parsed as {labels}, expected {list(want_perf)}")
        return None
    return p


def main(binary):
    env = lab_env()
    domains = lab_set(env, "default")
    failures, passed = [], 0

    base = danekit_args(env, binary)
    names = [d["domain"] for d in domains]
    # --format prometheus over every lab domain (read below), beside the rest.
    bulk = concurrent.futures.ThreadPoolExecutor(2)
    prom = bulk.submit(in_lab, env, base + ["--format", "prometheus", "--timeout", "20", *names], timeout=600)
    # Not determined for a cause on this side (a resolver that does not
    # answer: resolver-unreachable): UNKNOWN. Read below.
    local = bulk.submit(nagios, env, binary, "ee311.example", "--resolver", "127.0.0.99", timeout=3)

    # Every lab domain, thresholds off (--crit-days 0 --warn-days 0): the
    # status of the verdict alone. Six at a time, one domain per run.
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        runs = dict(zip(names, pool.map(
            lambda d: nagios(env, binary, d["domain"], "--warn-days", "0", "--crit-days", "0"), domains)))
    parse_lines([line for run in runs.values() for line in run.stdout.splitlines()])
    for d in domains:
        name, verdict = d["domain"], d["verdict"]
        p = check_line(name, runs[name], STATUS[verdict], failures)
        if p is None:
            continue
        if not p["summary"].startswith(f"{name}: {verdict}"):
            failures.append(f"{name}: summary {p['summary']!r} does not start with '{name}: {verdict}'")
            continue
        passed += 1

    # Thresholds: ta211.example authenticates with DANE-TA(2), so its chain's
    # dates matter; ee311.example with DANE-EE(3), so no date does.
    ta = nagios(env, binary, "ta211.example")
    p = check_line("ta211.example (default thresholds)", ta, 0, failures,
                   ("time", "addresses", "authenticated", "cert_days"))
    if p:
        days = next(x for x in p["perf"] if x["label"] == "cert_days")
        if not (21 <= days["value"] <= 3650 and days["warning"] == "21:" and days["critical"] == "7:"):
            failures.append(f"ta211.example: cert_days {days}, expected 21..3650 days with thresholds 21: and 7:")
        elif f"DANE-TA chain expires in {days['value']} days" not in p["summary"]:
            failures.append(f"ta211.example: summary {p['summary']!r} does not give the {days['value']} days")
        else:
            passed += 1
            for extra, want in ((["--warn-days", "3650"], 1), (["--warn-days", "3650", "--crit-days", "3650"], 2)):
                if check_line(f"ta211.example {' '.join(extra)}", nagios(env, binary, "ta211.example", *extra),
                              want, failures, ("cert_days",)):
                    passed += 1
    ee = nagios(env, binary, "ee311.example", "--warn-days", "3650", "--crit-days", "3650")
    p = check_line("ee311.example --crit-days 3650", ee, 0, failures)
    if p and any(x["label"] == "cert_days" for x in p["perf"]):
        failures.append(f"ee311.example: cert_days in {p['perfstring']!r}, but DANE-EE(3) ignores dates")
    elif p:
        passed += 1

    # --expect-dane: no DANE is CRITICAL.
    if check_line("unsigned.example --expect-dane", nagios(env, binary, "unsigned.example", "--expect-dane"), 2,
                  failures):
        passed += 1

    if check_line("ee311.example --resolver 127.0.0.99", local.result(), 3, failures):
        passed += 1

    # Usage errors: UNKNOWN, the status line on stdout, one line on stderr.
    usage = {
        "two domains": ["--nagios", "ee311.example", "ee301.example"],
        "--crit-days above --warn-days": ["--nagios", "--warn-days", "5", "--crit-days", "9", "ee311.example"],
        "--warn-days not an integer": ["--nagios", "--warn-days", "ten", "ee311.example"],
        "--warn-days out of range": ["--nagios", "--warn-days", "4000", "ee311.example"],
        "an unknown flag": ["--nagios", "--no-such-flag", "ee311.example"],
        "a bad domain": ["--nagios", "bad..example"],
        "--nagios with --json": ["--nagios", "--json", "ee311.example"],
    }
    for what, argv in usage.items():
        run = in_lab(env, base + argv, timeout=60)
        err = run.stderr.splitlines()
        if run.returncode != 3 or not re.fullmatch(r"DANE UNKNOWN - .+\n", run.stdout) or len(err) != 1 \
                or not err[0].startswith("danekit: "):
            failures.append(f"usage error ({what}): exit {run.returncode}, stdout {run.stdout!r}, "
                            f"stderr {run.stderr!r}; expected 3, one DANE UNKNOWN line, one danekit: line")
        else:
            passed += 1
    # Without --nagios the same mistakes are the usual usage error.
    run = in_lab(env, base + ["--warn-days", "5", "--crit-days", "9", "ee311.example"], timeout=60)
    if run.returncode != 64 or run.stdout:
        failures.append(f"--crit-days above --warn-days without --nagios: exit {run.returncode}, expected 64")
    else:
        passed += 1

    # --format prometheus over every lab domain: promtool accepts it, and it
    # says what the manifest says.
    text = prom.result().stdout
    bulk.shutdown()
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    if lint.returncode != 0 or not text:
        failures.append(f"promtool check metrics: exit {lint.returncode}: {lint.stdout.strip()} {lint.stderr.strip()}")
    else:
        passed += 1
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        samples[series] = float(value)
    for d in domains:
        name, verdict = d["domain"], d["verdict"]
        series = f'danekit_verdict{{domain="{name}",verdict="{verdict}"}}'
        stamp = samples.get(f'danekit_check_timestamp_seconds{{domain="{name}"}}')
        if samples.get(series) != 1 or not stamp:
            failures.append(f"prometheus: {series} = {samples.get(series)}, timestamp {stamp}; expected 1 and a time")
        elif sum(v for k, v in samples.items() if k.startswith(f'danekit_verdict{{domain="{name}",')) != 1:
            failures.append(f"prometheus: {name} has more than one verdict set")
        else:
            passed += 1
    for name, want in (("ee311.example", 1), ("mismatch.example", 0)):
        got = samples.get(f'danekit_authenticated{{domain="{name}"}}')
        if got != want:
            failures.append(f"prometheus: danekit_authenticated for {name} = {got}, expected {want}")
        else:
            passed += 1
    if not any(k.startswith('danekit_dane_expiry_timestamp_seconds{domain="ta211.example"}') for k in samples) or \
            any(k.startswith('danekit_dane_expiry_timestamp_seconds{domain="ee311.example"}') for k in samples):
        failures.append("prometheus: danekit_dane_expiry_timestamp_seconds should be set for ta211.example only")
    else:
        passed += 1
    if re.search(r'[0-9a-f]{32,}', text):
        failures.append("prometheus: a hash-like string in the metrics")
    finish("lab monitoring", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1])
