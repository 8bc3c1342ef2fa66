#!/usr/bin/python3
"""`cmake --install BUILD --prefix TMP` lays out what README "Install" says:
bin/danekit (the build's binary, which runs), a manual page per command the
binary lists plus danekit(1) in share/man/man1 (gzip, found by `man -w`), and
in share/doc/danekit the README, LICENSE, the Debian copyright and changelog,
every docs/*.md and every file of docs/examples (same bytes, scripts still
executable). Nothing else is installed.

    install_layout_test.py BUILD_DIR BINARY
"""

import filecmp
import gzip
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def commands(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30, check=True).stdout
    names, section = [], None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            section = line
        elif section == "Subcommands:" and re.match(r"^  \S", line):
            names.append(line.split()[0])
    return names


def tree(top):
    out = set()
    for d, _, files in os.walk(top):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), top))
    return out


def main(build, binary):
    failures, passed = [], 0

    def check(ok, what):
        nonlocal passed
        if ok:
            passed += 1
        else:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="danekit-install-") as prefix:
        r = subprocess.run(["cmake", "--install", build, "--prefix", prefix], capture_output=True, text=True,
                           timeout=120)
        check(r.returncode == 0, "cmake --install: exit %d: %s" % (r.returncode, r.stderr.strip()[-500:]))
        got = tree(prefix)

        exe = os.path.join(prefix, "bin", "danekit")
        check(os.access(exe, os.X_OK), "bin/danekit is missing or not executable")
        if os.access(exe, os.X_OK):
            v = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
            want = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
            check(v.returncode == 0 and v.stdout == want and v.stdout.startswith("danekit "),
                  "installed danekit --version: %r, the build's: %r" % (v.stdout, want))

        cmds = commands(binary)
        check(cmds, "danekit --help lists no commands")
        pages = {"share/man/man1/danekit.1.gz"} | {"share/man/man1/danekit-%s.1.gz" % c for c in cmds}
        got_pages = {p for p in got if p.startswith("share/man/")}
        check(got_pages == pages, "man pages %s, expected %s" % (sorted(got_pages), sorted(pages)))
        for p in sorted(pages & got_pages):
            with gzip.open(os.path.join(prefix, p), "rt", encoding="utf-8") as f:
                text = f.read()
            name = os.path.basename(p)[:-len(".1.gz")]
            check(re.search(r'^\.TH "%s" "1" ' % re.escape(name.upper()), text, re.M),
                  "%s: no .TH line for %s(1)" % (p, name))
        for c in ["danekit", *("danekit-" + c for c in cmds)]:
            w = subprocess.run(["man", "-M", os.path.join(prefix, "share", "man"), "-w", c], capture_output=True,
                               text=True, timeout=30)
            check(w.returncode == 0 and w.stdout.strip() == os.path.join(prefix, "share/man/man1", c + ".1.gz"),
                  "man -w %s: %r %r" % (c, w.stdout.strip(), w.stderr.strip()))

        doc = "share/doc/danekit/"
        docs = {doc + f for f in ("README.md", "LICENSE", "copyright", "changelog.gz")}
        docs |= {doc + f for f in os.listdir(os.path.join(ROOT, "docs")) if f.endswith(".md")}
        examples_src = os.path.join(ROOT, "docs", "examples")
        docs |= {doc + "examples/" + f for f in tree(examples_src)}
        got_docs = {p for p in got if p.startswith("share/doc/")}
        check(got_docs == docs, "docs: missing %s, unexpected %s" % (sorted(docs - got_docs), sorted(got_docs - docs)))
        for f in ("README.md", "LICENSE"):
            check(filecmp.cmp(os.path.join(ROOT, f), os.path.join(prefix, doc, f), shallow=False),
                  "%s differs from the source" % f)
        check(filecmp.cmp(os.path.join(ROOT, "packaging/debian/copyright"), os.path.join(prefix, doc, "copyright"),
                          shallow=False), "copyright differs from packaging/debian/copyright")
        for f in sorted(tree(examples_src)):
            src, dst = os.path.join(examples_src, f), os.path.join(prefix, doc, "examples", f)
            if os.path.exists(dst):
                check(filecmp.cmp(src, dst, shallow=False), "examples/%s differs from docs/examples" % f)
                check(os.access(src, os.X_OK) == os.access(dst, os.X_OK), "examples/%s: executable bit lost" % f)

        extra = sorted(got - pages - docs - {"bin/danekit"})
        check(not extra, "installed but not expected: %s" % extra)
        print("installed %d files: bin/danekit, %d man pages, %d docs" % (len(got), len(got_pages), len(got_docs)))

    for f in failures:
        print("FAIL " + f)
    print("install layout: %d passed, %d failed" % (passed, len(failures)))
    sys.exit(1 if failures or not passed else 0)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: install_layout_test.py BUILD_DIR BINARY")
    main(sys.argv[1], sys.argv[2])
