#!/usr/bin/env python3
"""The JSON of danekit's commands validates against docs/schema/.

Usage: json_schema_test.py DANEKIT

1. Every schema file is a valid Draft 2020-12 schema (check_schema), its $id
   is its file name under https://danekit.invalid/schema/, its "schema"
   constant names the same output, and every $ref in it resolves to a
   definition that exists (in the file itself or in defs.json).
2. Real runs of the binary, with no network: tlsa generate and tlsa verify on
   the fixed test certificates (tests/cli/data), reasons, mta-sts generate,
   tlsrpt summarize on the sample reports, and check and scan --summary against
   a closed local resolver port (every query fails at once: verdict
   undetermined). Each JSON object they print is validated against the schema
   its own "schema" field names; --json and --format json print the same bytes.

The lab tests validate check, scan and dnssec output of real domains with
tests/integration/schemas.py (validate()), which this test also uses.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
DATA = os.path.join(HERE, "..", "cli", "data")

try:
    import jsonschema  # noqa: F401  (Debian: python3-jsonschema)
except ImportError:
    print("FAIL: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(1)

import schemas  # noqa: E402

# Every schema file the docs promise; a run below must produce each of them
# except dnssec, whose real output needs name servers (lab.dnssec_cli_lab).
EXPECTED = {
    "danekit.check-1.json", "danekit.dnssec-1.json", "danekit.mta-sts-generate-1.json", "danekit.reasons-1.json",
    "danekit.scan-summary-1.json", "danekit.tlsa-generate-1.json", "danekit.tlsa-verify-1.json",
    "danekit.tlsrpt-summary-1.json",
}
NEEDS_NETWORK = {"danekit.dnssec-1.json"}

CERT_RECORD = "3 1 1 8be5a56f306054f1c2218ee07c04ad01bbc3bcf3ebbcfe4a3e85de6301b9ba90"
ISSUER_AS_EE = "3 1 1 32f4af8ba2d614b6abff4a960e29d9aa00634066f3b6a2daf99fe7d0be1bac7e"
TLSRPT = ["tlsrpt/rfc8460-example.json", "tlsrpt/dane-provider.json.gz", "tlsrpt/report-mail.eml",
          "tlsrpt/resent-by-https.json", "tlsrpt/no-policy-found.json"]


def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def runs(resolver):
    """(name, argv, allowed exit statuses) of the commands whose JSON is checked."""
    offline = ["--resolver", resolver, "--timeout", "2"]
    return [
        ("tlsa generate --cert --host", ["tlsa", "generate", "--cert", "chain.pem", "--host", "mx.example.org",
                                         "--ttl", "3600", "--format", "json"], {0}),
        ("tlsa generate --ta", ["tlsa", "generate", "--cert", "chain.pem", "--ta", "--host", "mx.example.org",
                                "--json"], {0}),
        ("tlsa generate --key (no owner)", ["tlsa", "generate", "--key", "leaf.key", "--json"], {0}),
        ("tlsa generate PKIX-EE Cert", ["tlsa", "generate", "--cert", "leaf.pem", "--usage", "PKIX-EE",
                                        "--selector", "cert", "--json"], {0}),
        ("tlsa verify zone file", ["tlsa", "verify", "--json", "--cert", "chain.pem", "--host", "mx.example.org",
                                   "--records", "good-records.zone"], {0}),
        ("tlsa verify near miss", ["tlsa", "verify", "--format", "json", "--cert", "chain.pem", "--record",
                                   ISSUER_AS_EE], {1}),
        ("tlsa verify unusable", ["tlsa", "verify", "--json", "--cert", "chain.pem", "--record",
                                  "1 1 1 8be5a56f306054f1c2218ee07c04ad01bbc3bcf3ebbcfe4a3e85de6301b9ba90"], {1}),
        ("tlsa verify key only", ["tlsa", "verify", "--json", "--key", "leaf.key", "--record", CERT_RECORD,
                                  "--record", "3 0 1 b69312010169f4b9936d3bf010edca946167db3e1e1dc93e0ac8c7d51b380657"],
         {0}),
        ("tlsa verify expired DANE-TA", ["tlsa", "verify", "--json", "--cert", "expired-chain.pem", "--host",
                                         "mx.example.org", "--record",
                                         "2 1 1 2bf84d0eb511136cfe9dcc1cf397bafb0b3ce661bbaaff7f0c67a452577d5c62"],
         {1}),
        ("tlsa verify DNS unreachable", ["tlsa", "verify", "--json", "--cert", "chain.pem", "--host",
                                         "mx.example.org", *offline], {3}),
        ("reasons", ["reasons", "--json"], {0}),
        ("reasons CODE", ["reasons", "--format", "json", "dane-mismatch"], {0}),
        ("mta-sts generate", ["mta-sts", "generate", "--domain", "example.org", "--mx", "mail.example.org", "--mx",
                              "*.example.net", "--mode", "enforce", "--max-age", "604800", "--current-mx",
                              "mail.example.org", "a.b.example.net", "--json"], {0}),
        ("mta-sts generate none", ["mta-sts", "generate", "--domain", "example.org", "--mode", "none",
                                   "--max-age", "0", "--format", "json"], {0}),
        ("tlsrpt summarize", ["tlsrpt", "summarize", "--json", *TLSRPT], {0}),
        ("tlsrpt summarize, bad files", ["tlsrpt", "summarize", "--format", "json", "tlsrpt/report-mail.eml",
                                         "tlsrpt/broken.json", "tlsrpt/bomb.json.gz"], {65}),
        ("check, resolver unreachable", ["check", "--json", *offline, "example.org", "example.net"], {3}),
    ]


def alias_argv(argv):
    """argv with --json for --format json, or the other way round."""
    if "--json" in argv:
        i = argv.index("--json")
        return argv[:i] + ["--format", "json"] + argv[i + 1:]
    for i in range(len(argv) - 1):
        if argv[i] == "--format" and argv[i + 1] == "json":
            return argv[:i] + ["--json"] + argv[i + 2:]
    return None


def run(binary, argv, cwd=DATA, timeout=60):
    env = dict(os.environ, LC_ALL="C.UTF-8", NO_COLOR="1")
    return subprocess.run([binary] + argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout)


def check_schema_files():
    """Part 1: the schema files themselves."""
    problems = []
    files = schemas.load_all()
    for name in sorted(EXPECTED - set(files)):
        problems.append("docs/schema/{} is missing".format(name))
    for name, schema in files.items():
        try:
            schemas.Validator.check_schema(schema)
        except Exception as e:  # SchemaError, with its own message
            problems.append("{}: not a valid Draft 2020-12 schema: {}".format(name, str(e).splitlines()[0]))
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            problems.append("{}: $schema is not Draft 2020-12".format(name))
        if schema.get("$id") != schemas.BASE + name:
            problems.append("{}: $id {!r}, want {!r}".format(name, schema.get("$id"), schemas.BASE + name))
        if name != "defs.json":
            const = schema.get("properties", {}).get("schema", {}).get("const")
            if not isinstance(const, str) or schemas.file_for(const) != name:
                problems.append("{}: properties.schema.const {!r} does not name this file".format(name, const))
        for ref in refs_in(schema):
            if not resolves(name, ref, files):
                problems.append("{}: $ref {!r} does not resolve".format(name, ref))
    return problems


def refs_in(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs_in(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs_in(v)


def resolves(name, ref, files):
    """A $ref of the form [FILE]#/JSON/POINTER, FILE a sibling schema file."""
    target, _, pointer = ref.partition("#")
    target = target or name
    if target.startswith(schemas.BASE):
        target = target[len(schemas.BASE):]
    if "/" in target or target not in files:
        return False
    node = files[target]
    for part in [p for p in pointer.split("/")[1:]] if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return isinstance(node, (dict, bool))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    failed = 0
    problems = check_schema_files()
    for p in problems:
        print("FAIL schema files: " + p)
    if problems:
        failed += 1
    else:
        print("ok   schema files: {} valid, every $ref resolves".format(len(schemas.load_all())))

    seen = set()
    resolver = "127.0.0.1@{}".format(closed_port())
    for name, argv, statuses in runs(resolver):
        p = run(binary, argv)
        out = p.stdout.decode("utf-8", "replace")
        lines = [l for l in out.splitlines() if l.strip()]
        bad = []
        if p.returncode not in statuses:
            bad.append("exit {}, want {}: {}".format(p.returncode, sorted(statuses),
                                                     p.stderr.decode("utf-8", "replace").strip()[:300]))
        if not lines:
            bad.append("printed no JSON")
        for i, line in enumerate(lines):
            try:
                obj = json.loads(line)
            except ValueError as e:
                bad.append("line {} is not JSON: {}".format(i + 1, e))
                continue
            if isinstance(obj, dict) and isinstance(obj.get("schema"), str):
                seen.add(schemas.file_for(obj["schema"]))
            bad += schemas.validate(obj)
        # --json and --format json are one option: the same bytes (check's
        # reports hold the time and the elapsed milliseconds).
        other = alias_argv(argv)
        if other and argv[0] != "check" and run(binary, other).stdout != p.stdout:
            bad.append("danekit {} printed other bytes".format(" ".join(other)))
        if bad:
            failed += 1
            print("FAIL {}: danekit {}".format(name, " ".join(argv)))
            for b in bad[:20]:
                print("  " + b)
        else:
            print("ok   {} ({} object{})".format(name, len(lines), "" if len(lines) == 1 else "s"))

    # scan --summary: one line per domain (danekit.check/1) and the summary.
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "domains.txt"), "w") as f:
            f.write("example.org\nexample.net\n")
        p = run(binary, ["scan", "--resolver", resolver, "--timeout", "2", "-o", "out.jsonl", "--summary",
                         "summary.json", "domains.txt"], cwd=tmp)
        bad = []
        objects = []
        for fname in ("out.jsonl", "summary.json"):
            try:
                with open(os.path.join(tmp, fname), encoding="utf-8") as f:
                    objects += [json.loads(l) for l in f if l.strip()]
            except (OSError, ValueError) as e:
                bad.append("{}: {}".format(fname, e))
        if len(objects) != 3:
            bad.append("{} objects, want 2 reports and a summary (exit {}: {})".format(
                len(objects), p.returncode, p.stderr.decode("utf-8", "replace").strip()[:300]))
        for obj in objects:
            if isinstance(obj, dict) and isinstance(obj.get("schema"), str):
                seen.add(schemas.file_for(obj["schema"]))
            bad += schemas.validate(obj)
        if bad:
            failed += 1
            print("FAIL scan --summary")
            for b in bad[:20]:
                print("  " + b)
        else:
            print("ok   scan --summary ({} objects)".format(len(objects)))

    unchecked = EXPECTED - NEEDS_NETWORK - seen
    if unchecked:
        failed += 1
        print("FAIL no run produced: " + ", ".join(sorted(unchecked)))
    print("{} failed".format(failed) if failed else "all passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
