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
