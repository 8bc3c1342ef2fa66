#!/usr/bin/env python3
"""MTA-STS and TLS-RPT against the lab (issue 8): every manifest domain with an
"sts" object (tests/lab/labgen_sts.py, docs/lab.md).

Part 1, ground truth from real clients, inside the lab namespace:
  - for every MX address with an expected `pkix`, openssl s_client (STARTTLS,
    SNI and host-name check for the MX host, the lab web CA, TLS 1.2) must reach
    the same verdict as the manifest;
  - for every policy host, curl with the lab web CA and no redirects must get
    what the manifest says an RFC 8461 fetch gets (the policy, a redirect, a
    certificate failure, no connection, no such host), from each of its
    addresses, byte for byte and with the manifest's content type.
Part 2, danekit check --json --ca-file <web CA> over all those domains:
  mta_sts.mode, tls_rpt.status, delivery_by_sender, each MX's mta_sts_covered,
  each address's pkix, and the reason codes (`codes` present, `absent_codes`
  absent; codes of the report's top-level, host, address, mta_sts and tls_rpt
  reasons/findings) must equal the manifest.

usage: sts_lab_test.py DANEKIT [--only ground-truth|danekit]
"""
import concurrent.futures
import json
import subprocess
import sys

from labenv import danekit_args, finish, in_lab, lab_env, manifest

TIMEOUT = 10                  # seconds per openssl or curl run
SENDERS = ("dane", "mta-sts", "dane+mta-sts")
CURL_EXIT = {6: "nxdomain", 7: "unreachable", 60: "pkix-invalid"}


def sts_domains(env):
    return [d for d in manifest(env) if "sts" in d]


def ca_file(env):
    return env["DANEKIT_LAB_DIR"] + "/webpki/ca.pem"


def pmap(fn, items):
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        return list(ex.map(fn, items))


# --------------------------------------------------------------------------- part 1

def openssl_pkix(env, host, address):
    """valid | invalid | not-checked (no chain: connect, STARTTLS or handshake failed
    for another reason than the certificate)."""
    target = "[%s]:25" % address if ":" in address else "%s:25" % address
    argv = ["timeout", str(TIMEOUT), "openssl", "s_client", "-starttls", "smtp",
            "-connect", target, "-servername", host, "-verify_hostname", host,
            "-CAfile", ca_file(env), "-verify_return_error", "-tls1_2"]
    r = in_lab(env, argv, timeout=TIMEOUT + 5, stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    if r.returncode == 0 and "Verify return code: 0 (ok)" in out:
        return "valid", ""
    errors = [line.strip() for line in out.splitlines() if "verify error:" in line]
    if r.returncode != 0 and errors:
        return "invalid", errors[0]
    last = out.strip().splitlines()[-1:] or ["no output"]
    return "not-checked", "exit %d: %s" % (r.returncode, last[0])


def curl_fetch(env, url, host, address=None):
    """(outcome, http status, content type, body) of one GET, no redirects followed.
    outcome: ok (200) | redirect (3xx) | http-<status> | nxdomain | unreachable |
    pkix-invalid | curl-<exit>."""
    argv = ["timeout", str(TIMEOUT + 2), "curl", "-sS", "--max-time", str(TIMEOUT),
            "--max-redirs", "0", "--proto", "=https", "--tlsv1.2", "--cacert", ca_file(env),
            "--max-filesize", str(64 * 1024), "-o", "-",
            "-w", "\n%{http_code} %{content_type}"]
    if address:
        argv += ["--resolve", "%s:443:%s" % (host, "[%s]" % address if ":" in address
                                              else address)]
    # bytes, not text: text mode would turn the CRLF policy's line ends into LF
    r = subprocess.run(["ip", "netns", "exec", env["DANEKIT_LAB_NS"], *argv, url],
                       capture_output=True, timeout=TIMEOUT + 5)
    if r.returncode != 0:
        return (CURL_EXIT.get(r.returncode, "curl-%d" % r.returncode), 0, "",
                r.stderr.decode(errors="replace").strip())
    body, _, meta = r.stdout.decode(errors="replace").rpartition("\n")
    code, _, ctype = meta.partition(" ")
    code = int(code) if code.isdigit() else 0
    if code == 200:
        return "ok", code, ctype, body
    if 300 <= code < 400:
        return "redirect", code, ctype, body
    return "http-%d" % code, code, ctype, body


def ground_truth(env, domains, failures):
    passed = 0
    probes = [(d["domain"], host, addr, want)
              for d in domains for host, m in d["sts"]["mx"].items()
              for addr, want in m["pkix"].items()]
    results = pmap(lambda p: openssl_pkix(env, p[1], p[2]), probes)
    for (dom, host, addr, want), (got, why) in zip(probes, results):
        if got != want:
            failures.append(f"{dom}: openssl says {host} at {addr} is {got} ({why}), "
                            f"manifest pkix {want!r}")
        else:
            passed += 1

    fetches = []
    for d in domains:
        pol = d["sts"]["policy"]
        fetches.append((d, pol, None))   # by name, through the lab resolver
        for a in pol["addresses"]:
            fetches.append((d, pol, a))  # each address of the policy host
    results = pmap(lambda f: curl_fetch(env, f[1]["url"], f[1]["host"], f[2]), fetches)
    for (d, pol, addr), (outcome, code, ctype, body) in zip(fetches, results):
        where = f"{pol['url']}" + (f" at {addr}" if addr else "")
        if outcome != pol["fetch"]:
            failures.append(f"{d['domain']}: curl {where}: {outcome} (HTTP {code}; {body[:200]}), "
                            f"manifest fetch {pol['fetch']!r}")
            continue
        if outcome == "ok":
            with open(pol["file"], newline="") as f:
                want_body = f.read()
            if body != want_body:
                failures.append(f"{d['domain']}: curl {where}: body {body[:120]!r} differs from "
                                f"{pol['file']}")
                continue
            if ctype != pol["content_type"]:
                failures.append(f"{d['domain']}: curl {where}: Content-Type {ctype!r}, "
                                f"manifest {pol['content_type']!r}")
                continue
        passed += 1
    return passed


# --------------------------------------------------------------------------- part 2

def codes_in(node, out):
    """Every `code` of a reason or finding anywhere in the report: lists under
    reasons / findings keys, at the top level, per host, per address, in mta_sts
    and tls_rpt."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("reasons", "findings") and isinstance(v, list):
                out.update(x["code"] for x in v if isinstance(x, dict) and "code" in x)
            codes_in(v, out)
    elif isinstance(node, list):
        for v in node:
            codes_in(v, out)
    return out


def compare(d, r):
    want = d["sts"]
    problems = []
    sts = r.get("mta_sts")
    if not isinstance(sts, dict):
        return ["no mta_sts object in the report"]
    if sts.get("mode") != want["mode"]:
        problems.append(f"mta_sts.mode {sts.get('mode')!r}, expected {want['mode']!r}")
    rpt = r.get("tls_rpt")
    got_rpt = rpt.get("status") if isinstance(rpt, dict) else None
    if got_rpt != want["tls_rpt"]:
        problems.append(f"tls_rpt.status {got_rpt!r}, expected {want['tls_rpt']!r}")
    dbs = r.get("delivery_by_sender")
    if not isinstance(dbs, dict):
        problems.append("no delivery_by_sender object")
    else:
        for s in SENDERS:
            if dbs.get(s) != want["delivery_by_sender"][s]:
                problems.append(f"delivery_by_sender[{s!r}] {dbs.get(s)!r}, "
                                f"expected {want['delivery_by_sender'][s]!r}")
        if dbs.get("dane") != r.get("delivery"):
            problems.append(f"delivery_by_sender['dane'] {dbs.get('dane')!r} is not "
                            f"delivery {r.get('delivery')!r}")
    for host, wm in want["mx"].items():
        gm = next((m for m in r.get("mx", []) if m.get("host") == host), None)
        if gm is None:
            problems.append(f"MX {host} missing (have {[m.get('host') for m in r.get('mx', [])]})")
            continue
        if "mta_sts_covered" not in gm:
            problems.append(f"{host}: no mta_sts_covered")
        elif gm["mta_sts_covered"] is not wm["covered"]:
            problems.append(f"{host} mta_sts_covered {gm['mta_sts_covered']!r}, "
                            f"expected {wm['covered']!r}")
        for addr, wp in wm["pkix"].items():
            ga = next((a for a in gm.get("addresses", []) if a.get("address") == addr), None)
            if ga is None:
                problems.append(f"{host} address {addr} missing")
            elif ga.get("pkix") != wp:
                problems.append(f"{addr} pkix {ga.get('pkix')!r} ({ga.get('pkix_detail')}), "
                                f"expected {wp!r}")
    codes = codes_in(r, set())
    for c in want["codes"]:
        if c not in codes:
            problems.append(f"reason {c} missing (have {sorted(codes)})")
    for c in want.get("absent_codes", []):
        if c in codes:
            problems.append(f"reason {c} present")
    return problems


def danekit_part(env, binary, domains, failures):
    argv = danekit_args(env, binary) + ["--json", "--timeout", "25", "--ca-file", ca_file(env),
                                        *[d["domain"] for d in domains]]
    run = in_lab(env, argv)
    if run.stderr.strip():
        print("stderr:", run.stderr.strip()[:2000])
    if run.returncode in (64, 70):
        failures.append(f"danekit check exited {run.returncode} (usage or internal error): "
                        f"{run.stderr.strip()[:300]}")
        return 0
    reports = {}
    for line in run.stdout.splitlines():
        if line.strip():
            r = json.loads(line)
            reports[r["domain"]] = r
    passed = 0
    for d in domains:
        r = reports.get(d["domain"])
        problems = ["no report"] if r is None else compare(d, r)
        if problems:
            failures.append(f"{d['domain']}: " + "; ".join(problems))
        else:
            passed += 1
    return passed


def main(argv):
    if not argv or len(argv) not in (1, 3) or (len(argv) == 3 and (
            argv[1] != "--only" or argv[2] not in ("ground-truth", "danekit"))):
        sys.exit("usage: sts_lab_test.py DANEKIT [--only ground-truth|danekit]")
    only = argv[2] if len(argv) == 3 else None
    env = lab_env()
    domains = sts_domains(env)
    failures, passed = [], 0
    if not domains:
        failures.append("no manifest domain has an sts object (lab too old?)")
    if domains and only != "danekit":
        passed += ground_truth(env, domains, failures)
    if domains and only != "ground-truth":
        passed += danekit_part(env, argv[0], domains, failures)
    finish("sts lab", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1:])
