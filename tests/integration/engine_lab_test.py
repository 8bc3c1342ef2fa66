#!/usr/bin/env python3
"""The engine under load and under local trouble, against the lab, as a user runs
danekit scan and check.

Always (default lab or bulk lab):
- Probe sharing: share-ta1 and share-ta2 have one MX host whose DANE-TA chain
  names only share-ta1 (the next-hop name): one SMTP session at the server, and
  each domain gets its own verdict from it (valid; invalid with name-mismatch).
  share-rr1 and share-rr2 have different MX names on one address with different
  TLSA RRsets: one session per SNI (RFC 7672 §8.1), one valid, one invalid.
- An unreachable resolver is this machine's trouble: verdict undetermined,
  delivery unknown, reason resolver-unreachable, exit 3, and no finding that tells
  the domain owner to fix anything.
- A descriptor limit too low to work with is refused with one clear line.

With the bulk set (manifest entries "set": "bulk" / "hosted"):
- The whole lab scanned at a window of 2,000 domains in flight (the window that
  overloaded the lab's receivers before the engine had per-address limits):
  zero wrong verdicts, deliveries or per-MX DANE states.
- The same under `ulimit -n 256`.
- The 1,000 hosted domains: exactly one SMTP session per provider listener
  (address, port, SNI) in the scan, counted at the server.
"""
import json
import os
import subprocess
import sys
import tempfile

from labenv import count_sessions, finish, in_lab, lab_env, manifest

TIMEOUT = "25"


def base(env, binary, command):
    return [binary, command, "--trust-anchor", env["DANEKIT_LAB_TA"], "--root-hints", env["DANEKIT_LAB_HINTS"],
            "--timeout", TIMEOUT]


def load_manifest(env):
    with open(env["DANEKIT_LAB_MANIFEST"]) as f:
        return json.load(f)


def compare(d, r):
    problems = []
    for key in ("verdict", "delivery"):
        if r.get(key) != d[key]:
            problems.append(f"{key} {r.get(key)!r}, expected {d[key]!r}")
    for want in d.get("mx", []):
        got = next((m for m in r.get("mx", []) if m["host"] == want["host"]), None)
        if got is None:
            problems.append(f"MX {want['host']} missing")
        elif want.get("dane") and got["dane"] != want["dane"]:
            problems.append(f"{want['host']} dane {got['dane']!r}, expected {want['dane']!r}")
    return problems


def scan(env, binary, names, out_dir, tag, extra=(), ulimit=None):
    inp = os.path.join(out_dir, f"{tag}.txt")
    out = os.path.join(out_dir, f"{tag}.jsonl")
    summary = os.path.join(out_dir, f"{tag}.summary.json")
    with open(inp, "w") as f:
        f.write("\n".join(names) + "\n")
    argv = base(env, binary, "scan") + list(extra) + ["-o", out, "--summary", summary, inp]
    if ulimit:
        argv = ["bash", "-c", f"ulimit -n {ulimit} && exec \"$@\"", "scan", *argv]
    run = in_lab(env, argv, timeout=900)
    reports = []
    if os.path.exists(out):
        with open(out) as f:
            reports = [json.loads(line) for line in f if line.strip()]
    s = {}
    if os.path.exists(summary):
        with open(summary) as f:
            s = json.load(f)
    return run, reports, s


def main(binary):
    env = lab_env()
    data = load_manifest(env)
    domains = manifest(env)
    by_name = {d["domain"]: d for d in domains}
    failures, passed = [], 0

    def check(what, problems):
        nonlocal passed
        if problems:
            failures.extend(f"{what}: {p}" for p in problems)
        else:
            passed += 1

    tmp = tempfile.mkdtemp(prefix="danekit-engine-")
    listeners = {l["address"]: l for l in data.get("listeners", [])}

    # Probe sharing: one session for share-ta1/2, one per SNI for share-rr1/2.
    for pair, sessions_expected in ((("share-ta1.example", "share-ta2.example"), 1),
                                    (("share-rr1.example", "share-rr2.example"), 2)):
        addr = by_name[pair[0]]["shared_server"]
        syslog = listeners[addr]["syslog_name"]
        before = count_sessions(env, syslog)
        run, reports, _ = scan(env, binary, list(pair), tmp, pair[0].split(".")[0])
        after = count_sessions(env, syslog)
        problems = []
        if run.returncode != 0:
            problems.append(f"scan exit {run.returncode}: {run.stderr.strip()[:300]}")
        got = {r["domain"]: r for r in reports}
        for name in pair:
            if name not in got:
                problems.append(f"{name}: no report")
            else:
                problems += [f"{name}: {p}" for p in compare(by_name[name], got[name])]
                for want in by_name[name]["mx"]:
                    m = next((m for m in got[name]["mx"] if m["host"] == want["host"]), None)
                    for wa in want.get("addresses", []):
                        ga = next((a for a in (m or {}).get("addresses", []) if a["address"] == wa["address"]), None)
                        if not ga or ga["outcome"] != wa["outcome"]:
                            problems.append(f"{name} {wa['address']} outcome {ga and ga['outcome']!r}, "
                                            f"expected {wa['outcome']!r}")
        if after - before != sessions_expected:
            problems.append(f"{after - before} SMTP sessions at {addr} ({syslog}), expected {sessions_expected}")
        check(f"shared server {addr} ({', '.join(pair)})", problems)

    # An unreachable resolver is local trouble, never the domain's.
    run = in_lab(env, [binary, "check", "--json", "--resolver", "127.0.0.77", "--timeout", "10", "ee311.example"],
                 timeout=120)
    problems = []
    try:
        r = json.loads(run.stdout)
        if (r["verdict"], r["delivery"], r["determined"]) != ("undetermined", "unknown", False):
            problems.append(f"verdict {r['verdict']}, delivery {r['delivery']}, determined {r['determined']}")
        codes = [x["code"] for x in r["reasons"]]
        if codes != ["resolver-unreachable"]:
            problems.append(f"reasons {codes}, expected only resolver-unreachable")
    except (ValueError, KeyError) as e:
        problems.append(f"no JSON report ({e}): {run.stdout[:200]!r} {run.stderr[:200]!r}")
    if run.returncode != 3:
        problems.append(f"exit {run.returncode}, expected 3")
    check("unreachable resolver", problems)

    # Too few descriptors to work with: refused, one line.
    run = in_lab(env, ["bash", "-c", "ulimit -n 24 && exec \"$@\"", "check", *base(env, binary, "check"),
                       "ee311.example"], timeout=60)
    err = [l for l in run.stderr.splitlines() if l.strip()]
    problems = []
    if run.returncode != 64 or len(err) != 1 or "descriptor limit" not in err[0] or run.stdout.strip():
        problems.append(f"exit {run.returncode}, stderr {err!r}, stdout {run.stdout[:100]!r}")
    check("descriptor limit too low", problems)

    bulk = [d for d in domains if d.get("set") in ("bulk", "hosted")]
    if not bulk:
        print("no bulk set in this lab: the load checks need `lab up --bulk N --hosted M`")
    else:
        names = [d["domain"] for d in domains]
        providers = data["bulk"]["providers"]
        before = {p["syslog_name"]: count_sessions(env, p["syslog_name"], settle=0) for p in providers}
        for tag, extra, ulimit in (("window2000", ["--concurrency", "2000"], None), ("ulimit256", [], 256)):
            run, reports, summary = scan(env, binary, names, tmp, tag, extra, ulimit)
            problems = []
            if run.returncode != 0:
                problems.append(f"scan exit {run.returncode}: {run.stderr.strip()[:300]}")
            seen = {}
            for r in reports:
                seen[r["domain"]] = seen.get(r["domain"], 0) + 1
            if sorted(seen) != sorted(names) or any(v != 1 for v in seen.values()):
                problems.append(f"{len(reports)} lines for {len(names)} domains")
            wrong = []
            for r in reports:
                p = compare(by_name[r["domain"]], r)
                if p:
                    wrong.append(f"{r['domain']}: {'; '.join(p)}")
            if wrong:
                problems.append(f"{len(wrong)} wrong verdicts, e.g. " + " | ".join(wrong[:5]))
            print(f"{tag}: {len(reports)} domains, {len(wrong)} wrong, limits {summary.get('limits')}, "
                  f"{summary.get('domains_per_second')} domains/s")
            check(f"bulk scan {tag}", problems)
            if tag == "window2000":
                problems = []
                for p in providers:
                    n = count_sessions(env, p["syslog_name"]) - before[p["syslog_name"]]
                    if n != 1:
                        problems.append(f"{p['host']} ({p['address']}): {n} SMTP sessions in one scan, expected 1")
                hosted = sum(1 for d in domains if d.get("set") == "hosted")
                print(f"hosted: {hosted} domains on {len(providers)} provider listeners")
                check("one session per provider listener", problems)
    finish("engine lab", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1])
