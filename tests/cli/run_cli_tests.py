#!/usr/bin/env python3
"""Golden tests for `danekit tlsa`: exact stdout, stderr and exit status.

Usage: run_cli_tests.py DANEKIT [--update] [NAME...]

Each line of cases.txt is "name | arguments"; the arguments are shell words
(shlex) given to DANEKIT, run in tests/cli/data so file names in the output are
stable. golden/NAME.out holds the expected result:

    exit N
    --- stdout
    ...
    --- stderr
    ...

--update rewrites the golden files from the current binary (review the diff
before committing). The data files are fixed certificates and keys made once
with openssl (see data/README).
"""
import difflib
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
GOLDEN = os.path.join(HERE, "golden")


def load_cases():
    cases = []
    with open(os.path.join(HERE, "cases.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, _, args = line.partition("|")
            cases.append((name.strip(), shlex.split(args.strip())))
    return cases


def run(binary, args):
    env = dict(os.environ, LC_ALL="C.UTF-8", NO_COLOR="1")
    p = subprocess.run([binary] + args, cwd=DATA, env=env, capture_output=True, timeout=60)
    return "exit {}\n--- stdout\n{}--- stderr\n{}".format(
        p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    update = "--update" in sys.argv[2:]
    only = [a for a in sys.argv[2:] if not a.startswith("--")]
    failed = 0
    cases = [c for c in load_cases() if not only or c[0] in only]
    for name, args in cases:
        got = run(binary, args)
        path = os.path.join(GOLDEN, name + ".out")
        if update:
            with open(path, "w", encoding="utf-8") as f:
                f.write(got)
            continue
        try:
            with open(path, encoding="utf-8") as f:
                want = f.read()
        except FileNotFoundError:
            want = ""
        if got != want:
            failed += 1
            print("FAIL {}: danekit {}".format(name, shlex.join(args)))
            sys.stdout.writelines(difflib.unified_diff(
                want.splitlines(True), got.splitlines(True), "golden/" + name + ".out", "actual"))
        else:
            print("ok   {}".format(name))
    if update:
        print("updated {} golden files".format(len(cases)))
        return 0
    print("{} of {} cases passed".format(len(cases) - failed, len(cases)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
