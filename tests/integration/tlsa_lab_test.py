#!/usr/bin/env python3
"""`danekit tlsa verify` and `generate` with records and servers from the lab:
signed, unsigned, bogus and absent TLSA RRsets, digest agility, a mismatch, and
a live server, each with the RRset verdict and exit status a user sees."""
import json
import os
import sys

from labenv import finish, in_lab, lab_env

CASES = [
    # host, verdict, exit status
    ("mx.ee311.example", "authenticates", 0),
    ("mx.ta211.example", "authenticates", 0),
    ("mx2.unsigned.example", "insecure", 1),
    ("mx.bogus-tlsa.example", "bogus", 1),
    ("mx.nsec.example", "no-records", 1),
    ("mx.agility.example", "fails", 1),
    ("mx.mismatch.example", "fails", 1),
]


def main(binary):
    env = lab_env()
    pki = os.path.join(env["DANEKIT_LAB_DIR"], "pki")
    root = ["--trust-anchor", env["DANEKIT_LAB_TA"], "--root-hints", env["DANEKIT_LAB_HINTS"]]
    failures, passed = [], 0
    for host, verdict, status in CASES:
        for against in (["--cert", os.path.join(pki, f"{host}.chain.pem")], ["--server", host]):
            run = in_lab(env, [binary, "tlsa", "verify", "--host", host, *against, *root, "--json"], timeout=60)
            try:
                got = json.loads(run.stdout)["rrset"]["verdict"]
            except (ValueError, KeyError):
                got = f"no JSON ({run.stderr.strip()})"
            if got == verdict and run.returncode == status:
                passed += 1
            else:
                failures.append(f"verify {host} {against[0]}: {got} exit {run.returncode}, "
                                f"expected {verdict} exit {status}")
    # generate from the live server equals generate from the served certificate
    live = in_lab(env, [binary, "tlsa", "generate", "--server", "mx.ee311.example", *root], timeout=60)
    local = in_lab(env, [binary, "tlsa", "generate", "--cert", os.path.join(pki, "mx.ee311.example.chain.pem"),
                         "--host", "mx.ee311.example"], timeout=60)
    rec = lambda out: out.split("TLSA", 1)[-1].strip()
    if live.returncode == 0 and local.returncode == 0 and rec(live.stdout) == rec(local.stdout) and rec(live.stdout):
        passed += 1
    else:
        failures.append(f"generate --server {live.stdout.strip()!r} != --cert {local.stdout.strip()!r}")
    finish("tlsa lab", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1])
