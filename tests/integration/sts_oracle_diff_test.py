#!/usr/bin/env python3
"""Differential test for MTA-STS: for every lab domain whose manifest entry has
"sts": {"oracle": true} (or an "oracle_deviation"), danekit's delivery_by_sender["mta-sts"] must equal what
the lab's real MTA-STS sender (tests/lab/sts-oracle: Postfix, level "may", with
postfix-mta-sts-resolver as its TLS policy map) did with a message.

Where that sender deviates from RFC 8461 in a documented way (docs/lab-sts-oracle.md,
"Known deviations"), danekit is compared with the manifest's RFC expectation
(sts.delivery_by_sender["mta-sts"]) instead, and the domain is listed.  A
deviation is recognised from what the sender did, never from the domain's name:

  policy-accepted       the resolver handed Postfix a policy ("secure match=...")
                        for a domain that, by RFC 8461, has no enforce policy
                        (it does not check the TXT record's id syntax)
  policy-rejected       the resolver answered NOTFOUND for a domain whose policy
                        RFC 8461 (and danekit) apply in enforce mode (it refuses
                        a policy served with a Content-Type other than text/plain)
  wildcard-depth        Postfix delivered over a Verified session to an MX host
                        two or more labels below a "*.zone" pattern (the resolver
                        turns "*.zone" into Postfix's ".zone", which matches any
                        depth; RFC 8461 §4.1: exactly one label)
  mx-not-checked        Postfix delivered over a Verified session to another MX
                        host the policy does not cover (Postfix checks the
                        certificate's names against the patterns, never the MX
                        host name)
  cert-name-not-checked Postfix delivered over a Verified session to an address
                        whose certificate is not valid for the MX host name (it
                        names another host the patterns cover)

usage: sts_oracle_diff_test.py DANEKIT_BINARY
       sts_oracle_diff_test.py --oracle-only
--oracle-only runs the oracle side alone: the sender's delivery must equal the
manifest's RFC expectation except for the deviations above (checks the manifest
against the real sender; needs no danekit binary).
"""
import json
import os
import subprocess
import sys

from labenv import ROOT, danekit_args, finish, in_lab, lab_env, manifest

STS_ORACLE = os.path.join(ROOT, "tests", "lab", "sts-oracle")


def host_of(relay):
    """'mx.example[127.25.0.5]:25' -> ('mx.example', '127.25.0.5')."""
    if not relay or "[" not in relay:
        return None, None
    host, rest = relay.split("[", 1)
    return host.lower().rstrip("."), rest.split("]", 1)[0]


def patterns(policy):
    """'secure match=a.example:.b.example servername=hostname' -> the match list."""
    for tok in policy.split():
        if tok.startswith("match="):
            return [p.lower() for p in tok[len("match="):].split(":") if p]
    return []


def deviation(entry, o):
    """The documented deviation that explains the sender's behaviour for this
    domain, as (name, detail), or None."""
    sts = entry["sts"]
    policy = o.get("policy") or ""
    mode = sts.get("mode")
    if policy.startswith("secure") and mode != "enforce":
        return "policy-accepted", f"resolver answered '{policy}', RFC 8461 mode {mode}"
    if policy.startswith("NOTFOUND") and mode == "enforce":
        return "policy-rejected", "resolver answered NOTFOUND, RFC 8461 mode enforce"
    if o["status"] == "sent" and o["tls"] == "Verified":
        host, addr = host_of(o.get("relay"))
        mx = {h.lower(): v for h, v in (sts.get("mx") or {}).items()}.get(host)
        if mx is not None and mx.get("covered") is False:
            deep = [p for p in patterns(policy)
                    if p.startswith(".") and host.endswith(p) and "." in host[:-len(p)]]
            if deep:
                return "wildcard-depth", (f"delivered to {host}, which '*{deep[0]}' does not "
                                          f"cover (Postfix's '{deep[0]}' matches any depth)")
            return "mx-not-checked", f"delivered to {host}, not covered ({policy})"
        if mx is not None and (mx.get("pkix") or {}).get(addr) == "invalid":
            return "cert-name-not-checked", f"delivered to {host}[{addr}], pkix invalid ({policy})"
    return None


def ask_oracle(names):
    up = subprocess.run([STS_ORACLE, "up"], capture_output=True, text=True, timeout=120)
    if up.returncode != 0:
        return None, f"sts-oracle up failed ({up.returncode}): {up.stderr.strip()}"
    run = subprocess.run([STS_ORACLE, "send", "--timeout", "30", *names], capture_output=True,
                         text=True, timeout=120)
    said = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            said[o["domain"]] = o
    if run.returncode not in (0, 1):
        return None, f"sts-oracle send failed ({run.returncode}): {run.stderr.strip()}"
    return said, None


def main(argv):
    if len(argv) != 1:
        sys.exit(next(p for p in __doc__.split("\n\n") if p.startswith("usage:")))
    oracle_only = argv[0] == "--oracle-only"
    env = lab_env()
    # the domains the sender is asked for: sts.oracle true, and those whose entry
    # documents an oracle deviation (sts.oracle_deviation), to show it happens
    domains = [d for d in manifest(env)
               if (d.get("sts") or {}).get("oracle") or (d.get("sts") or {}).get("oracle_deviation")]
    names = [d["domain"] for d in domains]
    if not names:
        finish("MTA-STS oracle differential", ["the manifest has no domain with sts.oracle true"], 0)
    said, err = ask_oracle(names)
    if err:
        finish("MTA-STS oracle differential", [err], 0)

    ours = {}
    if not oracle_only:
        args = danekit_args(env, argv[0]) + [
            "--json", "--timeout", "25", "--ca-file",
            os.path.join(env["DANEKIT_LAB_DIR"], "webpki", "ca.pem")]
        run = in_lab(env, args + names)
        for line in run.stdout.splitlines():
            if line.strip():
                r = json.loads(line)
                ours[r["domain"]] = r
        if not ours:
            finish("MTA-STS oracle differential",
                   [f"danekit printed no report (exit {run.returncode}): {run.stderr.strip()[:300]}"], 0)

    failures, passed, deviations = [], 0, []
    for d in domains:
        name = d["domain"]
        rfc = d["sts"]["delivery_by_sender"]["mta-sts"]
        o = said.get(name)
        if o is None or o["status"] == "timeout":
            failures.append(f"{name}: the MTA-STS sender gave no result ({o and o['log'][-2:]})")
            continue
        dev = deviation(d, o)
        if dev is None and d["sts"].get("oracle_deviation"):
            failures.append(f"{name}: the manifest documents a deviation "
                            f"({d['sts']['oracle_deviation']}), but the sender showed none: "
                            f"{o['status']}/{o['tls']} relay={o.get('relay')} policy={o.get('policy')!r}")
            continue
        if dev:
            deviations.append(f"{name}: {dev[0]}: {dev[1]}; sender {o['delivery']}, RFC 8461 {rfc}")
        if oracle_only:
            # the sender against the manifest: equal unless a documented deviation
            got, who, want, against = o["delivery"], "the sender", rfc, "RFC 8461 (manifest)"
            if dev:
                passed += 1
                print(f"dev  {name}: {dev[0]}: sender {got} ({o['status']}/{o['tls']}), RFC 8461 {rfc}")
                continue
        else:
            r = ours.get(name)
            if r is None:
                failures.append(f"{name}: no danekit report")
                continue
            got, who = (r.get("delivery_by_sender") or {}).get("mta-sts"), "danekit"
            want, against = (rfc, "RFC 8461 (manifest)") if dev else (o["delivery"], "the sender")
        if got == want:
            passed += 1
            print(f"ok   {name}: {who} {got}, {against} {want}"
                  + (f" [{dev[0]}]" if dev else f" ({o['status']}/{o['tls']}, {o['policy']})"))
        else:
            failures.append(f"{name}: {who} says {got}, {against} {want}; sender {o['status']}/"
                            f"{o['tls']} relay={o.get('relay')} policy={o.get('policy')!r} "
                            f"log={o.get('log', [])[-2:]}")
    for x in deviations:
        print(f"known deviation {x}")
    finish("MTA-STS oracle differential" + (" (oracle side only)" if oracle_only else ""),
           failures, passed)


if __name__ == "__main__":
    main(sys.argv[1:])
