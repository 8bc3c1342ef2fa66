#!/usr/bin/env python3
"""Rolls the key of the lab MX host mx.roll.example from key A to key B the way
an operator would: `danekit rollover plan` publishes B's record with an RFC 2136
update (TSIG) to the lab's Knot server, `precheck` refuses B until caches can
have expired and then accepts it, the certificate is swapped on the lab Postfix,
and `plan` withdraws A's record. Throughout, a loop of `danekit check` through
the lab's caching resolver must see roll.example authenticated every time."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import schemas
from labenv import ROOT, finish, in_lab, lab_env

failures, passed = [], 0


def expect(cond, what):
    global passed
    if cond:
        passed += 1
        print(f"ok   {what}")
    else:
        failures.append(what)


def run_hook(env, binary, roll, danekit_args, work):
    """docs/examples/certbot-deploy-hook as certbot would run it after renewing
    to key B: it stages B in work/staged and runs `rollover deploy`, which
    installs into work/ and runs the lab's swap-cert as the reload command."""
    lineage = os.path.join(work, "lineage")
    os.makedirs(lineage, exist_ok=True)
    for src, name in ((roll["key_b"], "privkey.pem"), (roll["chain_b"], "fullchain.pem")):
        with open(src) as f, open(os.path.join(lineage, name), "w") as g:
            g.write(f.read())
    swap = os.path.join(ROOT, "tests", "lab", "swap-cert")
    hook_env = {**os.environ, "RENEWED_LINEAGE": lineage, "DANEKIT_MX_HOST": roll["host"],
                "DANEKIT_ARGS": " ".join(danekit_args), "DANEKIT": os.path.abspath(binary),
                "DANEKIT_STAGED": os.path.join(work, "staged"), "DANEKIT_DEPLOY_CONF": os.path.join(work, "none"),
                "DANEKIT_STATE": danekit_args[danekit_args.index("--state") + 1],
                "DANEKIT_KEY_TARGET": os.path.join(work, "privkey.pem"),
                "DANEKIT_CHAIN_TARGET": os.path.join(work, "fullchain.pem"),
                "DANEKIT_RELOAD_CMD": f'{swap} {roll["host"]} "$DANEKIT_KEY" "$DANEKIT_CHAIN"'}
    return in_lab(env, [os.path.join(ROOT, "docs", "examples", "certbot-deploy-hook")], timeout=120, env=hook_env)


def main(binary):
    env = lab_env()
    with open(env["DANEKIT_LAB_MANIFEST"]) as f:
        roll = json.load(f)["rollover"]
    state = tempfile.NamedTemporaryFile(prefix="danekit-roll-", suffix=".db", delete=False).name
    work = tempfile.mkdtemp(prefix="danekit-roll-hook-")
    base = [binary, "rollover"]
    res = ["--trust-anchor", env["DANEKIT_LAB_TA"], "--root-hints", env["DANEKIT_LAB_HINTS"]]
    host = ["--host", roll["host"], "--state", state, "--margin", "1"]
    server = f"{roll['server']}@{roll.get('port', 53)}"

    def dk(*args, timeout=60):
        return in_lab(env, [*base, *args], timeout=timeout)

    def status_host(stdout):
        """The one host of a `rollover status --host` object, after schema validation."""
        obj = json.loads(stdout)
        problems = schemas.validate(obj)
        expect(not problems, f"rollover status JSON validates against its schema ({problems})")
        expect(len(obj["hosts"]) == 1, f"one host in the status object ({len(obj['hosts'])})")
        return obj["hosts"][0]

    # A loop of checks through the lab's caching resolver, like a sender's cache.
    results, stop = [], threading.Event()

    def loop():
        while not stop.is_set():
            r = in_lab(env, [binary, "check", "--json", "--timeout", "10", "--trust-anchor", env["DANEKIT_LAB_TA"],
                             "--resolver", "127.0.0.1", "roll.example"], timeout=30)
            try:
                rep = json.loads(r.stdout)
                results.append((time.time(), rep["delivery"], rep["verdict"]))
            except ValueError:
                results.append((time.time(), "no-output", r.stderr.strip()))
            time.sleep(0.2)

    t = threading.Thread(target=loop)
    t.start()
    try:
        st = dk("status", *host, *res, "--current-cert", roll["chain_a"], "--next-cert", roll["chain_b"],
                "--format", "json")
        s = status_host(st.stdout)
        expect(s["next_covered"] is False and s["missing_for_next"], "status: B is not published yet")
        pre = dk("precheck", *host, *res, "--cert", roll["chain_b"])
        expect(pre.returncode == 1 and "no published TLSA record" in pre.stdout,
               f"precheck refuses B before its record is published ({pre.returncode}: {pre.stdout.strip()})")

        plan = dk("plan", *host, *res, "--current-cert", roll["chain_a"], "--next-cert", roll["chain_b"],
                  "--nsupdate", server, "--tsig", roll["tsig"])
        expect(plan.returncode == 0 and "sent to" in plan.stdout, f"plan publishes B's record ({plan.stderr.strip()})")
        published = time.time()

        pre = dk("precheck", *host, *res, "--cert", roll["chain_b"])
        expect(pre.returncode == 1 and "too new" in pre.stdout,
               f"precheck refuses B right after publishing ({pre.stdout.strip()})")
        hook = run_hook(env, binary, roll, res + ["--state", state, "--margin", "1"], work)
        expect(hook.returncode == 0 and "NOT deploying" in hook.stderr,
               f"the certbot deploy hook stages B and does not install it yet ({hook.returncode}: "
               f"{hook.stderr.strip()})")
        accepted = None
        while time.time() - published < 60:
            pre = dk("precheck", *host, *res, "--cert", roll["chain_b"])
            if pre.returncode == 0:
                accepted = time.time() - published
                break
            time.sleep(0.5)
        expect(accepted is not None, f"precheck accepts B once the record is older than the caches "
                                     f"(after {accepted and round(accepted, 1)} s)")

        hook = run_hook(env, binary, roll, res + ["--state", state, "--margin", "1"], work)
        expect(hook.returncode == 0 and "is in service" in hook.stdout,
               f"the certbot deploy hook installs B ({hook.returncode}: {hook.stdout.strip()} {hook.stderr.strip()})")

        st = status_host(dk("status", *host, *res, "--current-cert", roll["chain_b"], "--json").stdout)
        expect(all(a["outcome"] == "verified" for a in st["served"]) and st["served"],
               "status: every address serves B and authenticates")

        plan = dk("plan", *host, *res, "--current-cert", roll["chain_a"], "--next-cert", roll["chain_b"],
                  "--nsupdate", server, "--tsig", roll["tsig"])
        expect(plan.returncode == 0 and "1 removed" in plan.stdout, f"plan withdraws A's record ({plan.stdout.strip()})")
        time.sleep(5)  # let the loop see the final state through the cache
        st = status_host(dk("status", *host, *res, "--current-cert", roll["chain_b"], "--format", "json").stdout)
        expect([r["state"] for r in st["records"]] == ["live"], f"only B's record is left ({st['records']})")
    finally:
        stop.set()
        t.join()
        os.unlink(state)
        shutil.rmtree(work, ignore_errors=True)
    bad = [r for r in results if r[1] != "authenticated"]
    expect(len(results) >= 10 and not bad,
           f"{len(results)} checks during the rollover, {len(bad)} not authenticated {bad[:3]}")
    finish("rollover lab", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1])
