#!/usr/bin/env python3
"""`danekit mta-sts generate --check` against the lab's live MTA-STS domains: the
policy it generates compared with the one served (tests/lab/labgen_sts.py).

  sts-enforce-dane.example  served exactly as generate writes it (CRLF, id = digest): in sync, exit 0
  sts-enforce.example       the same policy with LF line ends: differs, exit 1, no stale id
  sts-stale-id.example      the generated body is served, but the id is the digest of an earlier one:
                            stale id, exit 1, warning sts-id-stale
  ee311.example             no MTA-STS record at all: differs (record absent), exit 1
"""
import json
import sys

from labenv import finish, in_lab, lab_env

MAX_AGE = "604800"


def generate(env, binary, domain, fmt="json"):
    argv = [binary, "mta-sts", "generate", "--check", "--domain", domain, "--mode", "enforce",
            "--mx", "mx." + domain, "--max-age", MAX_AGE, "--trust-anchor", env["DANEKIT_LAB_TA"],
            "--root-hints", env["DANEKIT_LAB_HINTS"], "--ca-file", env["DANEKIT_LAB_DIR"] + "/webpki/ca.pem",
            "--timeout", "10", "--format", fmt]
    return in_lab(env, argv, timeout=120)


def main(binary):
    env = lab_env()
    failures, passed = [], 0
    cases = [("sts-enforce-dane.example", 0, "in-sync", True, False),
             ("sts-enforce.example", 1, "differs", False, False),
             ("sts-stale-id.example", 1, "stale-id", True, True),
             ("ee311.example", 1, "differs", None, False)]
    for domain, status, state, body_matches, stale in cases:
        r = generate(env, binary, domain)
        problems = []
        if r.returncode != status:
            problems.append(f"exit {r.returncode}, expected {status} ({r.stderr.strip()})")
        try:
            live = json.loads(r.stdout)["live"]
        except (ValueError, KeyError, TypeError):
            failures.append(f"{domain}: no JSON with 'live': {r.stdout[:200]!r} {r.stderr[:200]!r}")
            continue
        if live["state"] != state:
            problems.append(f"live.state {live['state']!r}, expected {state!r} ({live})")
        if live["body_matches"] != body_matches:
            problems.append(f"live.body_matches {live['body_matches']!r}, expected {body_matches!r}")
        if ("(sts-id-stale)" in r.stderr) != stale:
            problems.append(f"sts-id-stale warning {'missing' if stale else 'unexpected'}: {r.stderr.strip()!r}")
        if problems:
            failures.append(f"{domain}: " + "; ".join(problems))
        else:
            passed += 1
    text = generate(env, binary, "sts-enforce-dane.example", "text")
    if text.returncode != 0 or "# Live (--check): the live policy is this one" not in text.stdout:
        failures.append(f"text --check: exit {text.returncode}, {text.stdout[-300:]!r}")
    else:
        passed += 1
    finish("mta-sts generate --check", failures, passed)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: sts_generate_check_test.py DANEKIT")
    main(sys.argv[1])
