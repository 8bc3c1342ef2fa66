#!/usr/bin/python3
"""The manual pages of a build (BUILD/man, written by docs/man/manpages.py)
against the binary they document, read the way a user reads them:

- there is a page danekit(1) and one per command that `danekit --help` lists,
  and no other;
- every page renders with `man --warnings` without a word on stderr;
- the options a page shows (rendered by man, not its roff source) are exactly
  the options `--help` of its command (and of each subcommand) lists;
- every option the hand-written prose (docs/man/PAGE.md) names exists in the
  commands of that page;
- NAME.1.gz is NAME.1 compressed with gzip -9n (no name, no time stamp).

The --help side is parsed here on its own, not with the generator's parser.

    man_test.py BINARY MANDIR
"""

import gzip
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROSE = os.path.join(ROOT, "docs", "man")
FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)")
MAN_ENV = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
# Sections of a page that hold no option list of the page's command.
PROSE_SECTIONS = {"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "SUBCOMMANDS", "EXIT STATUS", "ENVIRONMENT",
                  "FILES", "EXAMPLES", "SEE ALSO", "POSITIONALS"}


def help_of(binary, path):
    r = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "%s --help: exit %d" % (" ".join(path), r.returncode)
    flags, subcommands, section = set(), [], None
    for line in r.stdout.splitlines():
        if line and not line.startswith(" "):
            section = line.rstrip(":") if line.endswith(":") else None
        elif re.match(r"^  \S", line) and section:
            head = re.split(r" {2,}", line.strip())[0]
            if section == "Subcommands":
                subcommands.append(head.split()[0])
            elif head.startswith("-"):
                flags |= {n for n in re.sub(r"\{[^}]*\}", "", head.split()[0]).split(",") if n}
    return flags, subcommands


def rendered(page, width="200"):
    env = dict(MAN_ENV, MANWIDTH=width)
    r = subprocess.run(["man", "-E", "UTF-8", "-l", page], capture_output=True, text=True, env=env, timeout=60)
    return r.stdout


def page_flags(text, extra_prose):
    """Rendered page -> {section title: set of flags in its option terms}."""
    out, section = {}, None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line.strip()
            out.setdefault(section, set())
            continue
        if section is None or section in PROSE_SECTIONS or section in extra_prose:
            continue
        # An option term: indented 7 (under .SH) and starting with a dash.
        m = re.match(r"^ {7}(-[^\s,]+(?:, -[^\s,]+)*)", line)
        if m:
            out[section] |= {f.rstrip(",") for f in m.group(1).split(", ")}
    return out


def prose_titles(name):
    path = os.path.join(PROSE, name + ".md")
    if not os.path.exists(path):
        return path, set(), ""
    text = open(path, encoding="utf-8").read()
    return path, {l[2:].strip().upper() for l in text.splitlines() if l.startswith("# ")}, text


def main(binary, mandir):
    failures, passed = [], 0

    def check(ok, what):
        nonlocal passed
        if ok:
            passed += 1
        else:
            failures.append(what)

    top_flags, commands = help_of(binary, [])
    check(commands, "danekit --help lists no commands")
    expected = {"danekit.1"} | {"danekit-%s.1" % c for c in commands}
    present = {f for f in os.listdir(mandir) if f.endswith(".1")}
    check(present == expected, "pages %s, expected %s" % (sorted(present), sorted(expected)))
    for c in commands:
        if not os.path.exists(os.path.join(PROSE, "danekit-%s.md" % c)):
            print("note: docs/man/danekit-%s.md is missing: danekit-%s(1) has --help text only" % (c, c))

    for name in sorted(expected & present):
        page = os.path.join(mandir, name)
        base = name[:-2]
        # Renders without warnings.
        r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", page], capture_output=True, text=True,
                           env=MAN_ENV, timeout=60)
        check(r.returncode == 0 and not r.stderr.strip(),
              "%s: man --warnings exit %d: %s" % (name, r.returncode, r.stderr.strip()[:500]))
        text80 = r.stdout
        check(max((len(l) for l in text80.splitlines()), default=0) <= 80, "%s: a line wider than 80" % name)
        # The compressed copy is the same page, gzip -9n.
        gz = page + ".gz"
        with open(gz, "rb") as f:
            raw = f.read()
        with open(page, "rb") as f:
            check(gzip.decompress(raw) == f.read(), "%s.gz differs from %s" % (name, name))
        check(raw[3] & 0x08 == 0 and raw[4:8] == b"\0\0\0\0" and raw[8] == 2,
              "%s.gz: not gzip -9n (name, time stamp or level)" % name)

        prose_path, titles, prose = prose_titles(base)
        sections = page_flags(rendered(page), titles)
        path = [] if base == "danekit" else [base[len("danekit-"):]]
        own, subs = help_of(binary, path)
        shown = set().union(*[v for k, v in sections.items() if not k.startswith("OPTIONS OF ")])
        check(shown == own, "%s: options %s on the page, %s in --help" % (name, sorted(shown), sorted(own)))
        everything = set(own)
        if path:
            for sub in subs:
                sub_flags, _ = help_of(binary, [*path, sub])
                everything |= sub_flags
                title = "OPTIONS OF " + " ".join(["DANEKIT", *path, sub]).upper()
                got = sections.get(title)
                check(got == sub_flags, "%s: %s shows %s, --help of %s lists %s" %
                      (name, title, sorted(got or []), sub, sorted(sub_flags)))
        else:
            for c in commands:
                check(("danekit-%s(1)" % c) in text80, "danekit.1 does not name danekit-%s(1)" % c)
            # The main page's prose may name any command's options.
            for c in commands:
                f, subs2 = help_of(binary, [c])
                everything |= f
                for s in subs2:
                    everything |= help_of(binary, [c, s])[0]
        # Options the prose names exist (code spans and indented examples).
        named = set()
        for span in re.findall(r"`([^`]+)`", prose) + [l for l in prose.splitlines() if l.startswith("    ")]:
            named |= {f for f in FLAG.findall(span) if not re.fullmatch(r"-\d+", f)}
        unknown = sorted(named - everything)
        check(not unknown, "%s: %s names %s, which --help does not list" % (name, prose_path, unknown))

    for f in failures:
        print("FAIL " + f)
    print("man pages: %d passed, %d failed" % (passed, len(failures)))
    sys.exit(1 if failures or not passed else 0)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: man_test.py BINARY MANDIR")
    main(sys.argv[1], sys.argv[2])
