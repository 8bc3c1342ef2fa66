#!/usr/bin/env python3
"""danekit dnssec as an operator meets it in the lab, beside the findings that
dnssec_lab_test.py compares with the manifest and dnsviz:

  - the text report names the zone, the server address and the fix, and the
    exit status is 1 with error findings, 0 without;
  - a root that does not answer (hints naming an address where nothing
    listens) is "could not audit", exit 3, one line on stderr, no findings;
  - bad input exits 64 with one line;
  - `danekit check` on a bogus domain carries the audit's findings (JSON `dnssec`
    object, a "DNSSEC audit" block in text) and on a valid one carries none;
  - `danekit rollover precheck` on roll.example (Knot, one server) runs the
    every-server TLSA check and passes it.

Usage: dnssec_cli_lab_test.py DANEKIT"""
import json
import os
import sys
import tempfile

import schemas
from labenv import finish, in_lab, lab_env, manifest

failures, passed = [], 0


def expect(cond, what, detail=""):
    global passed
    if cond:
        passed += 1
        print(f"ok   {what}")
    else:
        failures.append(what + (f"\n{detail}" if detail else ""))


def main(argv):
    binary = os.path.abspath(argv[0])
    env = lab_env()
    root = ["--trust-anchor", env["DANEKIT_LAB_TA"], "--root-hints", env["DANEKIT_LAB_HINTS"]]
    domains = {d["domain"]: d for d in manifest(env)}

    # Text: who, what, the fix; exit 1 on errors.
    r = in_lab(env, [binary, "dnssec", *root, "expired-sigs.example"], timeout=120)
    expect(r.returncode == 1, "dnssec expired-sigs.example exits 1", r.stdout + r.stderr)
    expect("ns-rrsig-expired [expired-sigs.example *]" in r.stdout and "fix: Re-sign expired-sigs.example" in r.stdout,
           "text names code, zone, servers and the fix", r.stdout)
    expect("zone expired-sigs.example  bogus" in r.stdout, "text gives the zone's status", r.stdout)

    if "dnssec-stale-secondary.example" in domains:
        r = in_lab(env, [binary, "dnssec", "--format", "json", *root, "dnssec-stale-secondary.example"], timeout=120)
        j = json.loads(r.stdout or "{}")
        expect(not schemas.validate(j), "dnssec --format json validates against danekit.dnssec-1.json",
               "; ".join(schemas.validate(j)))
        servers = [s for z in j.get("zones", []) if z["name"] == "dnssec-stale-secondary.example"
                   for s in z["servers"]]
        serials = {s["address"]: s["soa_serial"] for s in servers}
        expect(len(serials) == 2 and len(set(serials.values())) == 2,
               "both servers of dnssec-stale-secondary.example are listed with their own serial", r.stdout)
        expect(all(s["udp"] == "ok" and s["tcp"] == "ok" for s in servers),
               "both servers answer over UDP and TCP", r.stdout)

    r = in_lab(env, [binary, "dnssec", *root, "ee311.example"], timeout=120)
    expect(r.returncode == 0 and "no findings" in r.stdout, "dnssec ee311.example: no findings, exit 0",
           r.stdout + r.stderr)

    # Our side: no root server answers.
    with tempfile.NamedTemporaryFile("w", suffix=".hints", delete=False) as f:
        f.write(". 3600000 IN NS ns.dead-root.\nns.dead-root. 3600000 IN A 127.53.0.99\n")
        dead = f.name
    r = in_lab(env, [binary, "dnssec", "--timeout", "10", "--trust-anchor", env["DANEKIT_LAB_TA"], "--root-hints",
                     dead, "ee311.example"], timeout=60)
    os.unlink(dead)
    expect(r.returncode == 3 and r.stdout == "" and r.stderr.count("\n") == 1 and "could not audit" in r.stderr,
           "an unanswering root is 'could not audit', exit 3, one line", f"rc={r.returncode} {r.stdout!r} {r.stderr!r}")

    for bad in (["_x.example"], ["--format", "xml", "a.example"], ["--warn-days", "-1", "a.example"],
                ["--timeout", "0", "a.example"], ["--trust-anchor", "/dev/zero", "a.example"]):
        r = in_lab(env, [binary, "dnssec", *bad], timeout=30)
        expect(r.returncode == 64 and r.stderr.count("\n") == 1, f"dnssec {' '.join(bad)}: exit 64, one line",
               r.stderr)

    # check carries the audit where it met bogus DNSSEC.
    r = in_lab(env, [binary, "check", "--json", *root, "ds-mismatch.example", "bogus-tlsa.example", "ee311.example"],
               timeout=300)
    reports = {j["domain"]: j for j in map(json.loads, r.stdout.splitlines())}
    invalid = {d: schemas.validate(j) for d, j in reports.items() if schemas.validate(j)}
    expect(not invalid, "check --json with a dnssec object validates against its schema", str(invalid))
    got = lambda d: {(f["code"], f["zone"], f["server"]) for f in reports.get(d, {}).get("dnssec", {}).get("findings", [])}
    expect(("ds-no-match", "ds-mismatch.example", "*") in got("ds-mismatch.example"),
           "check --json ds-mismatch.example: dnssec.findings has ds-no-match", r.stdout)
    expect(("rrsig-bogus", "bogus-tlsa.example", "*") in got("bogus-tlsa.example"),
           "check --json bogus-tlsa.example: dnssec.findings has rrsig-bogus", r.stdout)
    expect("ee311.example" in reports and "dnssec" not in reports["ee311.example"],
           "check --json on a valid domain has no dnssec object", r.stdout)
    r = in_lab(env, [binary, "check", *root, "expired-sigs.example"], timeout=300)
    expect("DNSSEC audit (danekit dnssec expired-sigs.example)" in r.stdout and "x ns-rrsig-expired" in r.stdout,
           "check text on expired-sigs.example has the DNSSEC audit block", r.stdout)

    # rollover precheck: every authoritative server of roll.example serves the RRset.
    roll = None
    with open(env["DANEKIT_LAB_MANIFEST"]) as f:
        roll = json.load(f).get("rollover")
    if roll:
        r = in_lab(env, [binary, "rollover", "status", "--format", "json", "--host", roll["host"], *root],
                   timeout=120)
        try:
            j = json.loads(r.stdout)
        except ValueError:
            j = {}
        hosts = j.get("hosts") or [{}]
        auth = hosts[0].get("authoritative", {})
        expect(auth.get("checked") is True and auth.get("missing") == [] and len(auth.get("servers", [])) >= 1,
               "rollover status on roll.example: every authoritative server serves the TLSA RRset",
               r.stdout + r.stderr)
    finish("dnssec cli lab", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1:])
