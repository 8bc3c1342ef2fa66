#!/usr/bin/env python3
"""Times `danekit check` against Postfix's posttls-finger on the same lab
domains, in one run, and prints the ratio. Starts the lab if it is not up (and
stops it again). Reports figures only; asserts nothing.

    bench/check_vs_posttls_finger.py [--runs N] [--danekit build/danekit]

posttls-finger stops at the first MX host that answers, so for the multi-MX
domain it is also timed the way an audit of every host needs it: once per MX
host, one after another. danekit always checks every address of every host,
concurrently. danekit is timed twice: recursing with its own cold libunbound
cache (the default), and forwarding to the lab's caching resolver (which
posttls-finger uses too) while still validating itself.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "tests", "lab", "lab")


def lab_env():
    out = subprocess.run([LAB, "env"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if "=" in line and not line.startswith("export"):
            k, v = line.split("=", 1)
            env[k] = v
    return env


def lab_is_up(env):
    return subprocess.run(["ip", "netns", "exec", env["DANEKIT_LAB_NS"], "true"], capture_output=True).returncode == 0


def timed(env, argv, runs, extra_env=None):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(["ip", "netns", "exec", env["DANEKIT_LAB_NS"], *argv], capture_output=True,
                       env={**os.environ, **(extra_env or {})}, timeout=120)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--danekit", default=os.path.join(ROOT, "build", "danekit"))
    args = ap.parse_args()
    env = lab_env()
    started = False
    if not lab_is_up(env):
        subprocess.run([LAB, "up"], check=True, capture_output=True)
        started = True
        env = lab_env()
    try:
        pf_env = {"MAIL_CONFIG": os.path.join(env["DANEKIT_LAB_DIR"], "postfix-send", "etc")}
        dk = [args.danekit, "check", "--trust-anchor", env["DANEKIT_LAB_TA"], "--root-hints",
              env["DANEKIT_LAB_HINTS"]]
        dk_fwd = [args.danekit, "check", "--trust-anchor", env["DANEKIT_LAB_TA"], "--resolver", "127.0.0.1"]
        pf = ["posttls-finger", "-c", "-l", "dane"]
        rows = []
        for domain, hosts in (("ee311.example", ["mx.ee311.example"]),
                              ("multi-mx.example", ["mx1.multi-mx.example", "mx2.multi-mx.example"]),
                              ("mixed.example", ["mx1.mixed.example", "mx2.mixed.example"])):
            d = timed(env, dk + [domain], args.runs)
            f = timed(env, dk_fwd + [domain], args.runs)
            p = timed(env, pf + [domain], args.runs, pf_env)
            every = sum(timed(env, pf + [f"[{h}]"], args.runs, pf_env) for h in hosts)
            rows.append((domain, len(hosts), d, f, p, every))
        print(f"median of {args.runs} runs each, wall-clock ms, inside the lab namespace")
        print(f"{'domain':18} {'MX':>2} {'danekit':>8} {'dk+fwd':>8} {'ptf':>8} {'ptf/every MX':>13}  "
              f"{'ratio ptf/dk':>12} {'ratio every/dk':>14}")
        for domain, n, d, f, p, every in rows:
            print(f"{domain:18} {n:>2} {d:8.1f} {f:8.1f} {p:8.1f} {every:13.1f}  {p / d:12.2f} {every / d:14.2f}")
        print("ratio > 1: danekit is faster. ptf = posttls-finger (stops at the first MX that answers); "
              "ptf/every MX = posttls-finger run once per MX host, in sequence (what a full audit takes).")
    finally:
        if started:
            subprocess.run([LAB, "down"], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
