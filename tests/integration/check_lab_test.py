#!/usr/bin/env python3
"""danekit check against every lab domain: verdict, delivery, per-MX dane and
per-address outcome must equal the lab manifest's expectations. Also checks the
human report and the exit status for a few domains, the way a user sees them."""
import json
import sys

from labenv import danekit_args, finish, in_lab, lab_env, manifest
import schemas

EXIT = {"valid": 0, "partial": 1, "invalid": 1, "unusable": 1, "none": 2, "no-mail": 2}


def main(binary):
    env = lab_env()
    domains = manifest(env)
    names = [d["domain"] for d in domains]
    run = in_lab(env, danekit_args(env, binary) + ["--json", "--timeout", "25", *names])
    if run.stderr.strip():
        print("stderr:", run.stderr.strip())
    reports = {}
    for line in run.stdout.splitlines():
        r = json.loads(line)
        reports[r["domain"]] = r
    failures, passed = [], 0
    for d in domains:
        name = d["domain"]
        r = reports.get(name)
        if r is None:
            failures.append(f"{name}: no report")
            continue
        problems = [f"schema: {p}" for p in schemas.validate(r)]
        for key in ("verdict", "delivery"):
            if r[key] != d[key]:
                problems.append(f"{key} {r[key]!r}, expected {d[key]!r}")
        if r["schema"] != "danekit.check/1":
            problems.append("schema")
        for want in d.get("mx", []):
            got = next((m for m in r["mx"] if m["host"] == want["host"]), None)
            if got is None:
                problems.append(f"MX {want['host']} missing (have {[m['host'] for m in r['mx']]})")
                continue
            if want.get("dane") and got["dane"] != want["dane"]:
                problems.append(f"{want['host']} dane {got['dane']!r}, expected {want['dane']!r}")
            if want.get("tlsa_base") and got["tlsa_base"] != want["tlsa_base"]:
                problems.append(f"{want['host']} tlsa_base {got['tlsa_base']!r}, expected {want['tlsa_base']!r}")
            for wa in want.get("addresses", []):
                ga = next((a for a in got["addresses"] if a["address"] == wa["address"]), None)
                if ga is None:
                    problems.append(f"{want['host']} address {wa['address']} missing")
                elif ga["outcome"] != wa["outcome"]:
                    problems.append(f"{wa['address']} outcome {ga['outcome']!r} ({ga.get('detail')}), "
                                    f"expected {wa['outcome']!r}")
        # Findings and details the manifest pins (the cases real senders treat
        # differently, issue 6): reason codes present or absent, hosts never
        # looked up, the second certificate of a dual-certificate server.
        codes = {x["code"] for x in r["reasons"]}
        for code in d.get("expect_reasons", []):
            if code not in codes:
                problems.append(f"reason {code} missing (have {sorted(codes)})")
        for code in d.get("absent_reasons", []):
            if code in codes:
                problems.append(f"reason {code} present")
        for host in d.get("absent_hosts", []):
            if any(m["host"] == host for m in r["mx"]):
                problems.append(f"host {host} was checked")
        if "alternate" in d:
            alts = [(a.get("alternate") or {}).get("outcome") for m in r["mx"] for a in m["addresses"]]
            if alts != [d["alternate"]]:
                problems.append(f"alternate certificate outcomes {alts}, expected [{d['alternate']!r}]")
        for want in d.get("unusable_codes", []):
            have = [f.get("unusable_code") for m in r["mx"] for f in m["records"]]
            if want not in have:
                problems.append(f"record unusable_code {want} missing (have {have})")
        if problems:
            failures.append(f"{name}: " + "; ".join(problems))
        else:
            passed += 1

    # The exit status for single domains, as a script would use it.
    for name, verdict in (("ee311.example", "valid"), ("mismatch.example", "invalid"),
                          ("unsigned.example", "none"), ("nullmx.example", "no-mail")):
        run = in_lab(env, danekit_args(env, binary) + ["--timeout", "25", name])
        if run.returncode != EXIT[verdict]:
            failures.append(f"exit status for {name}: {run.returncode}, expected {EXIT[verdict]}")
        elif verdict.upper() not in run.stdout or "\x1b[" in run.stdout:
            failures.append(f"text report for {name} lacks {verdict.upper()} or has colour codes on a pipe")
        else:
            passed += 1
    # The lab's servers are on loopback, an IANA special-purpose range: flagged
    # unless --allow-special-addresses says this is a lab.
    flagged = [x for x in reports["ee311.example"]["reasons"] if x["code"] == "address-special-purpose"]
    # (--no-mta-sts: the info findings sts-missing and tlsrpt-missing are not the point here)
    quiet = in_lab(env, danekit_args(env, binary) + ["--json", "--no-mta-sts", "--allow-special-addresses", "ee311.example"])
    quiet_codes = [x["code"] for x in json.loads(quiet.stdout)["reasons"]] if quiet.stdout.strip() else None
    if not flagged or "127.0.0.0/8" not in flagged[0]["text"]:
        failures.append(f"ee311.example: no address-special-purpose for its loopback address ({flagged})")
    elif quiet_codes != []:
        failures.append(f"ee311.example with --allow-special-addresses: reasons {quiet_codes}, expected none")
    else:
        passed += 1
    lame = [d["domain"] for d in domains if d["domain"].startswith("lame.")]
    if lame:
        run = in_lab(env, danekit_args(env, binary) + ["--timeout", "8", lame[0]])
        if run.returncode != 3:
            failures.append(f"exit status for {lame[0]}: {run.returncode}, expected 3 (undetermined)")
        else:
            passed += 1
    finish("lab check", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1])
