#!/usr/bin/python3
"""The Debian package as a user gets it: scripts/package builds
danekit_<version>_<arch>.deb; its Depends name the package of every shared
library the binary links (readelf + dpkg -S, independent of dpkg-shlibdeps);
lintian finds no error (warnings are listed); `apt-get install ./danekit_*.deb`
installs it; the installed /usr/bin/danekit checks lab domains inside the lab's
namespace and gets the manifest's verdicts; `man -w danekit-check` finds the
page; `apt-get remove` takes it all away again. The package is never left
installed (finally), and the test refuses to run where danekit is installed
already (it would remove it).

Needs root, the lab (CTest fixture `lab`), dpkg-dev and lintian.

    package_test.py
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from labenv import ROOT, danekit_args, in_lab, lab_env, manifest  # noqa: E402

INSTALLED = "/usr/bin/danekit"
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def run(argv, timeout=120, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def installed():
    r = run(["dpkg-query", "-W", "-f=${Status}", "danekit"])
    return r.returncode == 0 and "installed" in r.stdout.split()


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        m = re.search(r"project\(danekit VERSION ([0-9.]+)", f.read())
    return m.group(1)


def needed_packages(deb, tmp):
    """The Debian packages of the shared libraries the packaged binary links."""
    run(["dpkg-deb", "-x", deb, tmp]).check_returncode()
    dyn = run(["readelf", "-d", os.path.join(tmp, "usr", "bin", "danekit")])
    dyn.check_returncode()
    pkgs = {}
    for lib in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn.stdout):
        owner = run(["dpkg", "-S", lib])
        # "libssl3:amd64: /usr/lib/x86_64-linux-gnu/libssl.so.3"; skip diversions.
        names = {l.split(":")[0] for l in owner.stdout.splitlines() if "/" + lib in l and not l.startswith("diversion")}
        pkgs[lib] = sorted(names)
    return pkgs


def use_installed(check, version):
    """What a user does with the installed package."""
    check(os.access(INSTALLED, os.X_OK), "%s is not there after install" % INSTALLED)
    v = run([INSTALLED, "--version"])
    check(v.returncode == 0 and version in v.stdout, "installed --version: %r" % v.stdout)

    # The lab check with the installed binary: a valid and a failing domain.
    env = lab_env()
    domains = manifest(env)
    picks = []
    for verdict in ("valid", "invalid", "none"):
        d = next((d for d in domains if d.get("verdict") == verdict and d.get("set", "default") == "default"),
                 None)
        if d:
            picks.append(d)
    check(len(picks) >= 2, "the lab manifest has no valid and invalid domains")
    r = in_lab(env, danekit_args(env, INSTALLED) + ["--json", "--timeout", "25", *[d["domain"] for d in picks]])
    got = {}
    for line in r.stdout.splitlines():
        try:
            o = json.loads(line)
            got[o["domain"]] = o
        except (ValueError, KeyError):
            check(False, "installed danekit check printed a line that is not a report: %r" % line[:200])
    for d in picks:
        o = got.get(d["domain"])
        check(o is not None and o["verdict"] == d["verdict"],
              "installed danekit check %s: verdict %s, expected %s (stderr %s)" %
              (d["domain"], o and o.get("verdict"), d["verdict"], r.stderr.strip()[-300:]))
    print("installed danekit check: %s" % ", ".join("%s %s" % (n, o["verdict"]) for n, o in got.items()))
    one = in_lab(env, danekit_args(env, INSTALLED) + ["--timeout", "25", picks[0]["domain"]])
    check(one.returncode == 0 and picks[0]["domain"] in one.stdout,
          "installed danekit check %s (text): exit %d" % (picks[0]["domain"], one.returncode))

    w = run(["man", "-w", "danekit-check"])
    check(w.returncode == 0 and w.stdout.strip() == "/usr/share/man/man1/danekit-check.1.gz",
          "man -w danekit-check: %r %r" % (w.stdout.strip(), w.stderr.strip()))
    listed = run(["dpkg", "-L", "danekit"]).stdout.split()
    for want in ("/usr/share/doc/danekit/copyright", "/usr/share/doc/danekit/changelog.gz",
                 "/usr/share/doc/danekit/README.md", "/usr/share/doc/danekit/examples/certbot-deploy-hook",
                 "/usr/share/man/man1/danekit.1.gz"):
        check(want in listed, "the package does not install %s" % want)


def main():
    failures, passed = [], 0

    def check(ok, what):
        nonlocal passed
        if ok:
            passed += 1
        else:
            failures.append(what)
        return ok

    if installed() or os.path.exists(INSTALLED):
        print("FAIL danekit is installed on this machine already (%s); this test would remove it" % INSTALLED)
        sys.exit(1)

    # Build (a second run reuses the build directory).
    started = time.monotonic()
    pkg = run([os.path.join(ROOT, "scripts", "package")], timeout=1500)
    print("scripts/package: %.0f s" % (time.monotonic() - started))
    if not check(pkg.returncode == 0, "scripts/package: exit %d: %s" % (pkg.returncode, pkg.stderr.strip()[-2000:])):
        return finish(failures, passed)
    deb = pkg.stdout.strip().splitlines()[-1]
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    version = project_version()
    check(os.path.basename(deb) == "danekit_%s_%s.deb" % (version, arch), "package file name %s" % deb)
    fields = {f: run(["dpkg-deb", "-f", deb, f]).stdout.strip() for f in ("Package", "Version", "Depends")}
    check(fields["Package"] == "danekit" and fields["Version"] == version, "control: %s" % fields)
    depends = {d.strip().split()[0] for d in fields["Depends"].split(",") if d.strip()}
    print("Depends:", fields["Depends"])
    with tempfile.TemporaryDirectory(prefix="danekit-deb-") as tmp:
        for lib, owners in needed_packages(deb, tmp).items():
            check(owners and any(o in depends for o in owners),
                  "the binary links %s (package %s), Depends lacks it" % (lib, owners))

    # lintian: no errors; warnings listed (exit 2: an error tag, 1: lintian itself failed).
    lint = run(["lintian", "--display-info", "--tag-display-limit", "0", deb], timeout=600)
    tags = [l for l in lint.stdout.splitlines() if re.match(r"^[EWIXP]: ", l)]
    errors = [l for l in tags if l.startswith("E: ")]
    for l in tags:
        print("lintian:", l)
    if lint.stderr.strip():
        print("lintian stderr:", lint.stderr.strip()[-500:])
    check(lint.returncode in (0, 2), "lintian: exit %d: %s" % (lint.returncode, lint.stderr.strip()[-500:]))
    check(not errors, "lintian errors: %s" % errors)
    print("lintian: %d errors, %d warnings" % (len(errors), sum(l.startswith("W: ") for l in tags)))

    try:
        inst = run(["apt-get", "install", "-y", "--no-install-recommends", "./" + os.path.basename(deb)],
                   timeout=600, cwd=os.path.dirname(deb), env=APT_ENV)
        if check(inst.returncode == 0 and installed(),
                 "apt-get install: exit %d: %s" % (inst.returncode, (inst.stdout + inst.stderr)[-1500:])):
            use_installed(check, version)
    finally:
        if installed():
            rm = run(["apt-get", "remove", "-y", "danekit"], timeout=600, env=APT_ENV)
            check(rm.returncode == 0, "apt-get remove: exit %d: %s" % (rm.returncode, rm.stderr.strip()[-500:]))
        check(not installed() and not os.path.exists(INSTALLED), "%s is still there after apt-get remove" % INSTALLED)
        check(not os.path.exists("/usr/share/man/man1/danekit-check.1.gz"), "the man page is still there")
    return finish(failures, passed)


def finish(failures, passed):
    for f in failures:
        print("FAIL " + f)
    print("package: %d passed, %d failed" % (passed, len(failures)))
    sys.exit(1 if failures or not passed else 0)


if __name__ == "__main__":
    main()
