#!/usr/bin/python3
"""scripts/bootstrap never replaces a mail server: scripts/mta-check, which it
runs before installing the lab's Postfix, refuses where another MTA is installed
(one line, naming it and the way out), and bootstrap refuses unknown options
before it installs anything. dpkg-query is replaced by a fake on PATH, so no
package is installed or looked up for real."""

import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CASES = [
    # (dpkg-query output lines, expected exit, text the one stderr line must hold)
    (["ii \tpostfix\tmail-transport-agent, default-mta"], 0, None),
    (["ii \texim4-daemon-light\tmail-transport-agent"], 1, "exim4-daemon-light"),
    (["ii \tpostfix\tmail-transport-agent", "ii \topensmtpd\tmail-transport-agent"], 1, "opensmtpd"),
    (["rc \tsendmail-bin\tmail-transport-agent"], 0, None),  # removed, only its config left
    (["ii \tnullmailer\tmail-transport-agent, default-mta"], 1, "nullmailer"),
    (["ii \tmailutils\tmailx"], 0, None),
    ([], 0, None),
]


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        fake = os.path.join(d, "dpkg-query")
        for lines, want, needle in CASES:
            with open(os.path.join(d, "out"), "w") as f:
                f.write("".join(l + "\n" for l in lines))
            with open(fake, "w") as f:
                f.write("#!/bin/sh\ncat %s/out\n" % d)
            os.chmod(fake, 0o755)
            env = dict(os.environ, PATH=d + ":" + os.environ["PATH"])
            r = subprocess.run([os.path.join(ROOT, "scripts", "mta-check")], env=env, capture_output=True,
                               text=True, timeout=30)
            err = r.stderr.strip().splitlines()
            ok = r.returncode == want and (
                (needle is None and not err) or
                (needle is not None and len(err) == 1 and needle in err[0] and "--no-lab" in err[0]))
            print("%s  %s -> exit %d %s" % ("ok  " if ok else "FAIL", lines, r.returncode, err))
            failures += not ok
    r = subprocess.run([os.path.join(ROOT, "scripts", "bootstrap"), "--frobnicate"], capture_output=True,
                       text=True, timeout=30)
    ok = r.returncode == 64 and len(r.stderr.strip().splitlines()) == 1 and "--no-lab" in r.stderr
    print("%s  bootstrap --frobnicate -> exit %d %r" % ("ok  " if ok else "FAIL", r.returncode, r.stderr.strip()))
    failures += not ok
    print("bootstrap guard: %d failed" % failures)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
