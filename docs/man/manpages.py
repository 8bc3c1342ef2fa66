#!/usr/bin/python3
"""Writes danekit's manual pages: danekit(1) and danekit-COMMAND(1) for every
command the binary has.

One source: the options, positionals, subcommands and one-line descriptions
come from the freshly built binary's own --help (CLI11), so they cannot drift
from it; the prose (DESCRIPTION, EXIT STATUS, EXAMPLES, ...) comes from
docs/man/danekit.md and docs/man/danekit-COMMAND.md. A command without such a
file still gets a page, from --help alone.

    manpages.py --binary build/danekit --source docs/man --output build/man

writes NAME.1 and NAME.1.gz (gzip -9n: no name, no time stamp) for every page
and removes any other *.1 and *.1.gz in --output. `--list` prints the command
tree as JSON instead (tests/setup/man_test.py uses it).

The prose files use a small subset of Markdown:
    # HEADING            a section (.SH); "## Title" a subsection (.SS)
    text                 paragraphs, separated by blank lines
    `code`, **bold**, *italic*   fonts; in code, - is a minus (\\-)
    - item               a bullet list
    TERM                 a definition list: the term on its own line, the
    : definition         definition on the next line(s) starting with ": "
        indented         four spaces: a literal block (no filling)
Sections named OPTIONS, SYNOPSIS, COMMANDS or NAME are generated and must
not appear in the prose files.
"""

import argparse
import gzip
import json
import os
import re
import subprocess
import sys

MAX_HELP = 1 << 20  # bytes of --help output read per command
MAX_DEPTH = 3  # danekit, COMMAND, SUBCOMMAND
GENERATED = {"NAME", "SYNOPSIS", "OPTIONS", "COMMANDS", "SUBCOMMANDS"}
# Sections in the order man-pages(7) gives; prose sections not listed here
# follow DESCRIPTION in the order of their file.
LATE = ["EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"]


def run_help(binary, path):
    r = subprocess.run([binary, *path, "--help"], capture_output=True, timeout=30)
    if r.returncode != 0:
        sys.exit("manpages: %s --help failed (exit %d): %s" %
                 (" ".join(["danekit", *path]), r.returncode, r.stderr.decode(errors="replace").strip()))
    if len(r.stdout) > MAX_HELP:
        sys.exit("manpages: %s --help prints more than %d bytes" % (" ".join(["danekit", *path]), MAX_HELP))
    return r.stdout.decode("utf-8", errors="replace")


def split_entry(line):
    """'  --timeout FLOAT     Seconds ...' -> ('--timeout FLOAT', 'Seconds ...')."""
    parts = re.split(r" {2,}", line.strip(), maxsplit=1)
    return parts[0], (parts[1].strip() if len(parts) > 1 else "")


TYPE_RE = re.compile(r"^(?:\[?[A-Z][A-Z0-9_:]*\]?(?:=\S*)?|\.\.\.)$")


def parse_option_head(head):
    """'-o,--output TEXT REQUIRED' -> names, type words, notes."""
    tokens = head.split()
    names = [n for n in re.sub(r"\{[^}]*\}", "", tokens[0]).split(",") if n]
    types, notes, i = [], [], 1
    while i < len(tokens) and TYPE_RE.match(tokens[i]) and not tokens[i].startswith("REQUIRED"):
        # CLI11 shows a captured default as TYPE=VALUE.
        t, eq, default = tokens[i].partition("=")
        types.append(t)
        if eq:
            notes.append("default: " + default)
        i += 1
    if i < len(tokens):
        notes.append(" ".join(tokens[i:]))
    return names, types, notes


def parse_help(text):
    """CLI11's help text -> {description, usage, sections: [{title, kind, entries}], footer}."""
    lines = text.splitlines()
    desc, usage, i = [], "", 0
    while i < len(lines) and not lines[i].startswith("Usage:"):
        if lines[i].strip():
            desc.append(lines[i].strip())
        i += 1
    if i < len(lines):
        usage = lines[i][len("Usage:"):].strip()
        i += 1
    sections, footer, current = [], [], None
    for line in lines[i:]:
        if not line.strip():
            continue
        if not line.startswith(" "):
            if line.endswith(":"):
                current = {"title": line[:-1].strip(), "raw": []}
                sections.append(current)
            else:
                current = None
                footer.append(line.rstrip())
            continue
        if current is None:
            footer.append(line.rstrip())
        elif re.match(r"^  \S", line):
            current["raw"].append([line, []])
        elif current["raw"]:
            current["raw"][-1][1].append(line.strip())
        else:
            current["raw"].append([line, []])
    out = []
    for s in sections:
        entries = []
        for line, more in s["raw"]:
            head, d = split_entry(line)
            entries.append({"head": head, "text": " ".join([d, *more]).strip()})
        title = s["title"]
        if title == "Subcommands":
            kind = "subcommands"
        elif title == "Positionals":
            kind = "positionals"
        elif entries and all(e["head"].startswith("-") for e in entries):
            kind = "options"
        else:
            kind = "text"
        for e in entries:
            if kind == "options":
                e["names"], e["types"], e["notes"] = parse_option_head(e["head"])
            elif kind in ("subcommands", "positionals"):
                e["name"] = e["head"].split()[0]
                rest = e["head"].split()[1:]
                e["types"] = [t for t in rest if TYPE_RE.match(t) and t != "REQUIRED"]
                e["notes"] = [t for t in rest if t == "REQUIRED"]
        out.append({"title": title, "kind": kind, "entries": entries})
    return {"description": " ".join(desc), "usage": usage, "sections": out, "footer": footer}


def command_tree(binary, path=(), depth=0):
    info = parse_help(run_help(binary, list(path)))
    info["path"] = list(path)
    info["children"] = []
    if depth + 1 < MAX_DEPTH:
        for s in info["sections"]:
            if s["kind"] == "subcommands":
                for e in s["entries"]:
                    info["children"].append(command_tree(binary, (*path, e["name"]), depth + 1))
    return info


# ---- roff -------------------------------------------------------------------

def esc(text):
    """Plain text -> roff text (no line may start with . or ')."""
    text = text.replace("\\", "\\e")
    return text


def code(text):
    return "\\fB" + esc(text).replace("-", "\\-") + "\\fR"


def inline(text):
    """`code` and *italic* spans of the prose -> roff fonts."""
    out, pos = [], 0
    for m in re.finditer(r"`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*", text):
        out.append(esc(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append(code(m.group(1)))
        elif m.group(2) is not None:
            out.append("\\fB" + esc(m.group(2)) + "\\fR")
        else:
            out.append("\\fI" + esc(m.group(3)) + "\\fR")
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def line_safe(roff):
    """A text line of roff that does not start with a control character."""
    return "\\&" + roff if roff[:1] in (".", "'") else roff


def option_words(text):
    """Help text -> roff with options (--x, -x) as minus signs, not hyphens."""
    parts = re.split(r"((?<![\w-])--?[A-Za-z0-9][\w-]*)", text)
    return "".join(code(p) if i % 2 else esc(p) for i, p in enumerate(parts))


def prose_to_roff(lines):
    """The Markdown subset of docs/man/*.md (one section's body) -> roff lines."""
    out, para = [], []

    def flush():
        if para:
            out.append(".PP")
            out.append(line_safe(inline(" ".join(para))))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            flush()
            i += 1
        elif line.startswith("    "):
            flush()
            out += [".PP", ".RS 4", ".nf"]
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                block = lines[i][4:] if lines[i].strip() else ""
                out.append(line_safe(esc(block).replace("-", "\\-")))
                i += 1
            while out[-1] == "":
                out.pop()
            out += [".fi", ".RE"]
        elif line.startswith("## "):
            flush()
            out.append('.SS "%s"' % line[3:].strip().replace('"', ""))
            i += 1
        elif line.startswith("- "):
            flush()
            item = [line[2:].strip()]
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                item.append(lines[i].strip())
                i += 1
            out += [".IP \\(bu 2", line_safe(inline(" ".join(item)))]
        elif i + 1 < len(lines) and lines[i + 1].startswith(": "):
            flush()
            out += [".TP", line_safe(inline(line.strip()))]
            i += 1
            body = []
            while i < len(lines) and (lines[i].startswith(": ") or lines[i].startswith("  ")) and lines[i].strip():
                body.append(lines[i][2:].strip())
                i += 1
            out.append(line_safe(inline(" ".join(body))))
        else:
            para.append(line.strip())
            i += 1
    flush()
    return out


def read_prose(path):
    """docs/man/PAGE.md -> [(title, [lines])] in file order."""
    sections = []
    if not os.path.exists(path):
        return sections
    with open(path, encoding="utf-8") as f:
        text = f.read(1 << 20)
    for line in text.splitlines():
        if line.startswith("# "):
            title = line[2:].strip().upper()
            if title in GENERATED:
                sys.exit("manpages: %s: section %s is generated from --help; remove it" % (path, title))
            sections.append((title, []))
        elif sections:
            sections[-1][1].append(line.rstrip())
        elif line.strip():
            sys.exit("manpages: %s: text before the first '# SECTION' heading" % path)
    return sections


def synopsis(node):
    words = node["usage"].split()
    out = []
    for w in words:
        if w.startswith("-") or w == "SUBCOMMAND" or w.upper() == w and w.strip("[]").isalpha():
            out.append(code(w) if w.startswith("-") else w)
        elif w in ("danekit", *node["path"]):
            out.append(code(w))
        else:
            out.append("\\fI" + esc(w) + "\\fR")
    return [".nf", line_safe(" ".join(out)), ".fi"] if out else []


def option_term(e):
    names = ", ".join(code(n) for n in e["names"])
    types = " ".join("\\fI" + esc(t) + "\\fR" for t in e["types"])
    return line_safe(names + (" " + types if types else ""))


def entry_text(e):
    text = e["text"]
    notes = e.get("notes") or []
    if notes:
        text = (text + " " if text else "") + "(" + "; ".join(notes) + ")"
    return line_safe(option_words(text)) if text else "\\&"


def text_entries(s):
    return [x for e in s["entries"] for x in (".TP", line_safe(option_words(e["head"])), entry_text(e))]


def options_roff(node, heading_level, merged=()):
    """The option lists of --help; text sections titled like a prose section
    (`merged`) are left out here and shown in that section."""
    out = []
    for s in node["sections"]:
        if s["kind"] == "subcommands" or s["kind"] == "text" and s["title"].upper() in merged:
            continue
        title = s["title"].upper() if heading_level == ".SH" else s["title"]
        if s["kind"] == "options" and s["title"] == "Options" and heading_level == ".SH":
            title = "OPTIONS"
        shown = [x for x in node["sections"] if x["kind"] != "subcommands"]
        if heading_level == ".SH" or len(shown) > 1:
            out.append('%s "%s"' % (heading_level, title.replace('"', "")))
        for e in s["entries"]:
            if s["kind"] == "options":
                out += [".TP", option_term(e), entry_text(e)]
            elif s["kind"] == "positionals":
                types = " ".join(e["types"])
                out += [".TP", line_safe("\\fI" + esc(e["name"]) + "\\fR" + (" " + esc(types) if types else "")),
                        entry_text(e)]
            else:
                out += text_entries({"entries": [e]})
    out += footer_roff(node["footer"])
    return out


def footer_roff(lines):
    """The help's footer: lines at the margin are filled paragraphs, indented
    'TERM  text' lines a definition list, other indented lines literal."""
    out, para = [], []
    for line in lines:
        m = re.match(r"^\s+(\S+(?: \S+)*?) {2,}(\S.*)$", line)
        if not line.startswith(" "):
            para.append(line.strip())
            continue
        if para:
            out += [".PP", line_safe(option_words(" ".join(para)))]
            para = []
        if m:
            out += [".TP", line_safe(option_words(m.group(1))), line_safe(option_words(m.group(2)))]
        else:
            out += [".PP", ".nf", line_safe(option_words(line.strip())), ".fi"]
    if para:
        out += [".PP", line_safe(option_words(" ".join(para)))]
    return out


def page_name(path):
    return "-".join(["danekit", *path])


def render_page(node, prose, version, date, root):
    name = page_name(node["path"])
    title = name.upper()
    out = ['.\\" Generated by docs/man/manpages.py from `%s --help` and docs/man/%s.md; do not edit.'
           % (" ".join(["danekit", *node["path"]]), name),
           '.TH "%s" "1" "%s" "danekit %s" "danekit manual"' % (title, date, version),
           ".SH NAME",
           line_safe("%s \\- %s" % (esc(name), option_words(re.sub(r"^danekit: ", "", node["description"]) or
                                                              "danekit")))]
    out.append(".SH SYNOPSIS")
    out += synopsis(node)
    for child in node["children"]:
        out += synopsis(child)
    sections = dict(prose)
    order = [t for t, _ in prose]
    # A --help text section (e.g. "Exit status:") titled like a prose section
    # opens that section; the prose follows it.
    from_help = {x["title"].upper(): x for x in node["sections"] if x["kind"] == "text"}
    merged = set(from_help) & set(sections)
    if "DESCRIPTION" not in sections:
        out += [".SH DESCRIPTION", ".PP", line_safe(option_words(node["description"]) + ".")]
    else:
        out.append(".SH DESCRIPTION")
        out += prose_to_roff(sections["DESCRIPTION"])
    for t in order:
        if t != "DESCRIPTION" and t not in LATE:
            out.append('.SH "%s"' % t)
            out += text_entries(from_help[t]) if t in merged else []
            out += prose_to_roff(sections[t])
    if node["children"]:
        label = "COMMANDS" if not node["path"] else "SUBCOMMANDS"
        out.append(".SH " + label)
        for child in node["children"]:
            if node["path"]:
                out += [".TP", code(" ".join(["danekit", *child["path"]]))]
            else:
                out += [".TP", "\\fB%s\\fR(1)" % esc(page_name(child["path"])).replace("-", "\\-")]
            out.append(line_safe(option_words(child["description"])) if child["description"] else "\\&")
    out += options_roff(node, ".SH", merged)
    for child in node["children"] if node["path"] else []:
        out.append('.SH "OPTIONS OF %s"' % " ".join(["DANEKIT", *[p.upper() for p in child["path"]]]))
        out += [".PP", line_safe(option_words(child["description"]) + ".")] if child["description"] else []
        out += options_roff(child, ".SS")
    for t in LATE:
        if t in sections and t != "SEE ALSO":
            out.append('.SH "%s"' % t)
            out += text_entries(from_help[t]) if t in merged else []
            out += prose_to_roff(sections[t])
    # SEE ALSO: the other pages (from the command tree), then the prose's references.
    refs = [page_name(c["path"]) for c in root["children"]] if not node["path"] else ["danekit"]
    out += ['.SH "SEE ALSO"', ".ad l", ".PP"]
    out.append(line_safe(", ".join("\\fB%s\\fR(1)" % r.replace("-", "\\-") for r in refs) +
                         ("," if "SEE ALSO" in sections else "")))
    if "SEE ALSO" in sections:
        out += [l for l in prose_to_roff(sections["SEE ALSO"]) if l != ".PP"]
    return "\n".join(out) + "\n"


def pages(tree):
    yield tree
    for child in tree["children"]:
        yield child


def main():
    ap = argparse.ArgumentParser(description="Write danekit's manual pages from --help and docs/man/*.md")
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", help="docs/man")
    ap.add_argument("--output", help="directory for NAME.1 and NAME.1.gz")
    ap.add_argument("--version", default="")
    ap.add_argument("--list", action="store_true", help="print the command tree as JSON")
    a = ap.parse_args()
    tree = command_tree(a.binary)
    if a.list:
        json.dump(tree, sys.stdout, indent=1)
        print()
        return
    if not a.source or not a.output:
        ap.error("--source and --output are required (or --list)")
    version = a.version
    if not version:
        v = subprocess.run([a.binary, "--version"], capture_output=True, text=True, timeout=30).stdout.split()
        version = v[-1] if v else "unknown"
    # The date of the page is the date of its sources (reproducible builds).
    date = os.environ.get("SOURCE_DATE_EPOCH")
    if date is None:
        srcs = [os.path.join(a.source, f) for f in os.listdir(a.source)]
        date = str(int(max(os.path.getmtime(f) for f in srcs)))
    import time
    date = time.strftime("%Y-%m-%d", time.gmtime(int(date)))
    os.makedirs(a.output, exist_ok=True)
    wanted = set()
    for node in pages(tree):
        name = page_name(node["path"])
        src = os.path.join(a.source, name + ".md")
        text = render_page(node, read_prose(src), version, date, tree)
        if not os.path.exists(src):
            print("manpages: note: no %s; %s(1) has --help text only" % (src, name), file=sys.stderr)
        with open(os.path.join(a.output, name + ".1"), "w", encoding="utf-8") as f:
            f.write(text)
        with open(os.path.join(a.output, name + ".1.gz"), "wb") as f:
            f.write(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
        wanted |= {name + ".1", name + ".1.gz"}
    for f in os.listdir(a.output):
        if (f.endswith(".1") or f.endswith(".1.gz")) and f not in wanted:
            os.remove(os.path.join(a.output, f))


if __name__ == "__main__":
    main()
