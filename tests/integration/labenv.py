"""Shared helpers for the lab tests: where the lab is, how to run inside it."""
import json
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(ROOT, "tests", "lab", "lab")


def lab_env():
    out = subprocess.run([LAB, "env"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            env[key.strip().removeprefix("export ").strip()] = shlex.split(value)[0] if value else ""
    return env


def manifest(env):
    with open(env["DANEKIT_LAB_MANIFEST"]) as f:
        data = json.load(f)
    return data["domains"] if isinstance(data, dict) and "domains" in data else data


def in_lab(lab, argv, timeout=300, **kw):
    return subprocess.run(["ip", "netns", "exec", lab["DANEKIT_LAB_NS"], *argv], capture_output=True, text=True,
                          timeout=timeout, **kw)


def danekit_args(env, binary):
    return [binary, "check", "--trust-anchor", env["DANEKIT_LAB_TA"], "--root-hints", env["DANEKIT_LAB_HINTS"]]


def finish(name, failures, passed):
    for f in failures:
        print(f"FAIL {f}")
    print(f"{name}: {passed} passed, {len(failures)} failed")
    sys.exit(1 if failures or passed == 0 else 0)


def lab_set(env, name):
    """Manifest domains of one set: "bulk", "hosted", or "default" (entries without a
    "set" field: the default lab, including the shared-probe domains)."""
    return [d for d in manifest(env) if d.get("set", "default") == name]


def receivers_maillog(env):
    return os.path.join(env["DANEKIT_LAB_DIR"], "postfix-recv", "maillog")


def count_sessions(env, syslog_name, settle=0.5):
    """Number of SMTP sessions the receiver listener with this Postfix syslog_name
    has accepted since `lab up`: its smtpd "connect from" lines in the receivers'
    maillog.  syslog_name as in the manifest's listeners[].syslog_name, e.g.
    "postfix-recv/provider1" (bulk.providers[] too); a bare "provider1" is taken
    as "postfix-recv/provider1".

    Postfix writes the log through postlogd, a moment after the connection: the
    count is re-read until it has not changed for `settle` seconds (0: read once).
    Take a baseline before the scan and subtract:

        before = count_sessions(env, "postfix-recv/provider1")
        ... scan ...
        assert count_sessions(env, "postfix-recv/provider1") - before == 1
    """
    import re
    import time
    if "/" not in syslog_name:
        syslog_name = "postfix-recv/" + syslog_name
    pat = re.compile(r"\s%s/smtpd\[\d+\]: connect from " % re.escape(syslog_name))

    def count():
        try:
            with open(receivers_maillog(env), errors="replace") as f:
                return sum(1 for line in f if pat.search(line))
        except FileNotFoundError:
            return 0

    n = count()
    if settle <= 0:
        return n
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < settle:
        time.sleep(min(0.1, settle))
        m = count()
        if m != n:
            n, stable_since = m, time.monotonic()
    return n
