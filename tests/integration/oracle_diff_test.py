#!/usr/bin/env python3
"""Differential test: for every lab domain the Postfix DANE sender can judge,
danekit's `delivery` must equal what that sender actually did with a message."""
import json
import os
import subprocess
import sys

from labenv import ROOT, danekit_args, finish, in_lab, lab_env, manifest


def postfix_delivery(o):
    if o["status"] == "bounced":
        return {"undeliverable"}
    if o["status"] == "deferred":
        return {"deferred"}
    if o["tls"] in ("Verified", "Trusted"):
        return {"authenticated"}
    if o["tls"] in ("Untrusted", "Anonymous"):
        return {"encrypted", "opportunistic"}
    return {"opportunistic"}


def main(binary):
    env = lab_env()
    domains = [d for d in manifest(env) if d.get("oracle", True)]
    names = [d["domain"] for d in domains]
    oracle = subprocess.run([os.path.join(ROOT, "tests", "lab", "oracle"), *names], capture_output=True, text=True,
                            timeout=600)
    said = {}
    for line in oracle.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            o = json.loads(line)
            said[o["domain"]] = o
    policy = os.environ.get("DANEKIT_INSECURE_MX_POLICY", "")
    args = danekit_args(env, binary) + ["--json", "--timeout", "25"]
    if policy:
        args += ["--insecure-mx-policy", policy]
    run = in_lab(env, args + names)
    ours = {json.loads(l)["domain"]: json.loads(l) for l in run.stdout.splitlines() if l.strip()}
    failures, passed = [], 0
    for name in names:
        o, r = said.get(name), ours.get(name)
        if o is None or r is None:
            failures.append(f"{name}: oracle {'missing' if o is None else 'ok'}, danekit "
                            f"{'missing' if r is None else 'ok'}")
            continue
        allowed = postfix_delivery(o)
        # Where Postfix delivered, danekit's first usable host must be the one it used.
        relay_host = (o.get("relay") or "").split("[")[0]
        first = next((m["host"] for m in r["mx"] if m["dane"] == "authenticated"), None)
        if r["delivery"] == "authenticated" and relay_host and first != relay_host:
            failures.append(f"{name}: danekit would deliver to {first}, postfix delivered to {relay_host}")
            continue
        if r["delivery"] in allowed:
            passed += 1
            print(f"ok   {name}: danekit {r['delivery']}, postfix {o['status']}/{o['tls']}")
        else:
            failures.append(f"{name}: danekit says {r['delivery']}, postfix {o['status']} tls={o['tls']} "
                            f"relay={o.get('relay')} log={o.get('log', [])[-2:]}")
    finish("oracle differential", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1])
