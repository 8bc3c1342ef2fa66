#!/usr/bin/env python3
"""danekit dnssec on the lab's DNSSEC cases, cross-checked with Debian's dnsviz.

For every manifest domain with `dnssec_expect` (tests/lab/labgen.py build_dnssec):
  1. the lab case is what it claims: dnsviz sees each expected problem;
  2. `danekit dnssec --format json DOMAIN` reports every expected finding (code,
     zone, server), none of `dnssec_absent`, no error finding where none is expected,
     and exits 1 exactly when it reports an error finding;
  3. danekit does not contradict dnsviz (table below).

dnsviz runs inside the lab namespace: `dnsviz probe -A -a . -4` (authoritative
analysis from the root down) with the lab's root hints bind-mounted over
/usr/share/dnsviz/hints/named.root (a mount that lives only in that `ip netns exec`),
then `dnsviz grok -P -t ROOT-DNSKEY` (-P: the lab's servers have private addresses;
-t: the lab root KSK, checked here against the lab trust anchor's DS).

What dnsviz grok says             -> what danekit must report (zone Z, server S)
--------------------------------------------------------------------------------
RRSIG status EXPIRED, signer Z,   -> ns-rrsig-expired on Z naming each S, or "*"
  served by S                        when dnsviz saw it at every server of Z
RRSIG status INVALID_SIG (does   -> rrsig-bogus on Z naming each S (or "*", as
  not verify), signer Z, at S        above)
TLSA RRset rdata differing        -> ns-tlsa-inconsistent on Z (a server among
  between servers of Z               those, or "*")
SOA serial differing between      -> ns-serial-mismatch on Z naming the servers
  servers of Z                       behind the highest serial (or "*")
SERVER_UNRESPONSIVE_UDP/TCP at S  -> ns-unreachable or ns-timeout on Z naming S
  (zone Z)
DS INDETERMINATE_NO_DNSKEY while  -> ds-stale on Z, not an error
  the delegation is SECURE
delegation BOGUS, no DS VALID     -> ds-no-match on Z
NSEC3 iterations > 0 in Z         -> nsec3-iterations on Z; = 0: no nsec3-iterations
a VALID RRSIG of Z expiring in    -> rrsig-expiring on Z (danekit's threshold is
  under 3 days                       at least that)
any error (errors[] or status     -> at least one error finding on Z
  BOGUS/EXPIRED/INVALID_SIG) in Z
no error in Z                     -> no error finding on Z, except codes dnsviz
                                     records but does not judge (BEYOND_DNSVIZ), and
                                     nsec3-iterations where dnsviz saw more than 150
                                     (validators' limit, which dnsviz does not apply)

Usage: dnssec_lab_test.py DANEKIT [--dnsviz-only]
--dnsviz-only checks 1 only (for work on the lab cases before the command exists).
"""
import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile

from labenv import finish, in_lab, lab_env

# Findings about servers disagreeing with each other: dnsviz shows each server's
# answer but raises no error for the disagreement itself.
BEYOND_DNSVIZ = {"ns-tlsa-inconsistent", "ns-serial-mismatch"}
# dnsviz 0.9.4 validates NSEC3 at any iteration count; unbound 1.17 treats proofs with
# more than this many as insecure (RFC 9276 §3.2), so danekit may call them an error.
NSEC3_INSECURE_ABOVE = 150
EXPIRING_DAYS = 3
DNSVIZ_HINTS = "/usr/share/dnsviz/hints/named.root"
BAD_STATUS = {"BOGUS", "EXPIRED", "INVALID_SIG", "INVALID"}

# `dnsviz grok -t` (Debian 0.9.4) insists on importing pygraphviz.release, which
# Debian 12's python3-pygraphviz 1.7 no longer ships; give it one.
SITECUSTOMIZE = """\
import sys, types
try:
    import pygraphviz.release  # noqa: F401
except ImportError:
    try:
        import pygraphviz
        m = types.ModuleType("pygraphviz.release")
        m.version = pygraphviz.__version__
        sys.modules["pygraphviz.release"] = m
        pygraphviz.release = m
    except ImportError:
        pass
"""


def norm(name):
    return name.strip().lower().rstrip(".") or "."


def norm_server(s):
    s = str(s).strip().lower()
    if s.startswith("[") and "]" in s:
        return s[1:s.index("]")]
    return s


# ----------------------------------------------------------------- trust anchor

def dname_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.lower().encode()
    return out + b"\0"


def root_dnskey_file(state_dir, trust_anchor, out):
    """The lab root's KSK DNSKEY records (dnsviz wants keys, the lab anchor is a DS):
    taken from the signed root zone and kept only if a DS of the anchor matches."""
    ds = []
    with open(trust_anchor) as f:
        for line in f:
            fl = line.split()
            if len(fl) >= 7 and fl[3] == "DS":
                ds.append((int(fl[4]), int(fl[5]), int(fl[6]), "".join(fl[7:]).lower()))
    keys = []
    with open(os.path.join(state_dir, "dns", "root.zone.signed")) as f:
        for line in f:
            fl = line.split()
            if len(fl) >= 8 and fl[0] == "." and fl[3] == "DNSKEY" and fl[4] == "257":
                flags, proto, alg = int(fl[4]), int(fl[5]), int(fl[6])
                rdata = flags.to_bytes(2, "big") + bytes([proto, alg]) + base64.b64decode("".join(fl[7:]))
                acc = sum(b << 8 if i % 2 == 0 else b for i, b in enumerate(rdata))
                tag = (acc + (acc >> 16)) & 0xffff
                for dtag, dalg, dtype, digest in ds:
                    h = {1: hashlib.sha1, 2: hashlib.sha256, 4: hashlib.sha384}.get(dtype)
                    if dtag == tag and dalg == alg and h and h(dname_wire(".") + rdata).hexdigest() == digest:
                        keys.append(line.strip())
    if not keys:
        raise SystemExit("dnssec lab: no root DNSKEY in the signed root zone matches the trust anchor")
    with open(out, "w") as f:
        f.write("\n".join(keys) + "\n")


# ----------------------------------------------------------------- dnsviz

def run_dnsviz(env, tmp, names, label, dnskey_file):
    """probe + grok for the given names; returns grok's JSON or raises with a reason."""
    probe = os.path.join(tmp, label + ".probe.json")
    script = ('mount --bind "$1" "$2" && shift 2 && exec dnsviz probe -A -a . -4 "$@" > "$OUT"')
    r = in_lab(env, ["env", "OUT=" + probe, "sh", "-c", script, "sh", env["DANEKIT_LAB_HINTS"], DNSVIZ_HINTS,
                     *names], timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"dnsviz probe failed ({r.returncode}): {r.stderr.strip()[-300:]}")
    with open(probe) as f:
        probed = json.load(f)
    missing = [n for n in names if n.rstrip(".") + "." not in probed]
    if missing:
        raise RuntimeError(f"dnsviz probe has no analysis of {missing}")
    r = in_lab(env, ["env", "PYTHONPATH=" + tmp, "dnsviz", "grok", "-P", "-t", dnskey_file, "-r", probe],
               timeout=120)
    if r.returncode != 0 or not r.stdout.strip():
        raise RuntimeError(f"dnsviz grok failed ({r.returncode}): {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout)


def zone_of(name, zones):
    """The longest lab zone that is name or one of its ancestors."""
    n = norm(name)
    best = "."
    for z in zones:
        if z != "." and (n == z or n.endswith("." + z)) and len(z) > len(best):
            best = z
    return best


class DnsvizView:
    """What grok says, per zone: errors, and the facts the mapping table reads."""

    def __init__(self, grok, zones, now):
        self.errors = {}      # zone -> [(what, servers)]
        self.expired = {}     # zone -> servers serving an EXPIRED RRSIG of the zone
        self.invalid = {}     # zone -> servers serving an RRSIG of the zone that does not verify
        self.unresponsive = {}  # zone -> servers that did not answer
        self.servers = {}     # zone -> its servers (grok "zone" / auth addresses)
        self.tlsa = {}        # (zone, owner) -> {server: frozenset(rdata)}
        self.serials = {}     # zone -> {server: serial}
        self.ds_stale, self.ds_no_match = set(), set()
        self.nsec3_iter = {}  # zone -> max iterations seen
        self.expiring = {}    # zone -> least days left on a VALID RRSIG
        self.zones, self.now = zones, now
        for name, obj in grok.items():
            if name.startswith("_meta") or not isinstance(obj, dict):
                continue
            z = zone_of(name, zones)
            self._walk(obj, z, [], [name])
            zinfo = obj.get("zone")
            if isinstance(zinfo, dict) and norm(name) == z:
                srv = set()
                for v in zinfo.get("servers", {}).values():
                    srv |= {norm_server(a) for a in v.get("auth", []) + v.get("glue", [])}
                self.servers[z] = srv
            deleg = obj.get("delegation")
            if isinstance(deleg, dict) and norm(name) == z:
                ds = deleg.get("ds", [])
                gone = [d for d in ds if d.get("status") == "INDETERMINATE_NO_DNSKEY"]
                valid = [d for d in ds if d.get("status") == "VALID"]
                if deleg.get("status") == "SECURE" and gone and valid:
                    self.ds_stale.add(z)
                if deleg.get("status") == "BOGUS" and ds and not valid:
                    self.ds_no_match.add(z)

    def _err(self, z, what, servers):
        self.errors.setdefault(z, []).append((what, sorted(servers)))

    def _walk(self, o, z, servers, path):
        if isinstance(o, list):
            for v in o:
                self._walk(v, z, servers, path)
            return
        if not isinstance(o, dict):
            return
        here = [norm_server(s) for s in o.get("servers", [])] or servers
        zz = norm(o["signer"]) if "signer" in o else z
        if o.get("type") == "TLSA" and "rdata" in o:
            for s in here:
                self.tlsa.setdefault((z, norm(o.get("name", ""))), {})[s] = frozenset(o["rdata"])
        if o.get("type") == "SOA" and "rdata" in o and norm(o.get("name", "")) == z:
            for s in here:
                self.serials.setdefault(z, {})[s] = int(o["rdata"][0].split()[2])
        if o.get("type") == "NSEC3" and "rdata" in o:
            for rd in o["rdata"]:
                self.nsec3_iter[z] = max(self.nsec3_iter.get(z, 0), int(rd.split()[2]))
        if "signer" in o and "expiration" in o:
            st = o.get("status")
            if st == "EXPIRED":
                self.expired.setdefault(zz, set()).update(here)
            elif st == "INVALID_SIG":
                self.invalid.setdefault(zz, set()).update(here)
            elif st == "VALID":
                exp = datetime.datetime.strptime(o["expiration"], "%Y-%m-%d %H:%M:%S UTC")
                days = (exp.replace(tzinfo=datetime.timezone.utc) - self.now).total_seconds() / 86400
                self.expiring[zz] = min(self.expiring.get(zz, days), days)
        if o.get("status") in BAD_STATUS:
            self._err(zz, f"{'/'.join(path[-2:])} {o['status']}", here)
        for e in o.get("errors", []):
            self._err(zz, f"{'/'.join(path[-2:])} {e.get('code')}",
                      [norm_server(s) for s in e.get("servers", [])] or here)
            if e.get("code") in ("SERVER_UNRESPONSIVE_UDP", "SERVER_UNRESPONSIVE_TCP"):
                self.unresponsive.setdefault(zz, set()).update(norm_server(s) for s in e.get("servers", []))
        for k, v in o.items():
            if isinstance(v, (dict, list)) and k not in ("errors", "warnings"):
                self._walk(v, z, here, path + [str(o.get("id", k))])

    def expectations(self):
        """(code, zone, Spec) the mapping table derives, plus the zones whose NSEC3
        iterations are 0."""
        out = []
        for z, srv in self.expired.items():
            out.append(("ns-rrsig-expired", z, Spec("each", srv)))
        for z, srv in self.invalid.items():
            out.append(("rrsig-bogus", z, Spec("each", srv)))
        for z, srv in self.unresponsive.items():
            out.append((("ns-unreachable", "ns-timeout"), z, Spec("each", srv)))
        for (z, _owner), by in self.tlsa.items():
            if len(set(by.values())) > 1:
                out.append(("ns-tlsa-inconsistent", z, Spec("any", by)))
        for z, by in self.serials.items():
            if len(set(by.values())) > 1:
                top = max(by.values())
                out.append(("ns-serial-mismatch", z, Spec("each", [s for s, v in by.items() if v < top])))
        for z in self.ds_stale:
            out.append(("ds-stale", z, Spec("any", [])))
        for z in self.ds_no_match:
            out.append(("ds-no-match", z, Spec("any", [])))
        for z, it in self.nsec3_iter.items():
            if it > 0:
                out.append(("nsec3-iterations", z, Spec("any", [])))
        for z, days in self.expiring.items():
            if 0 < days < EXPIRING_DAYS:
                out.append(("rrsig-expiring", z, Spec("any", [])))
        zero = {z for z, it in self.nsec3_iter.items() if it == 0}
        return out, zero


# ----------------------------------------------------------------- matching

class Spec:
    """Which servers a finding must name.  "each": every server listed (a "*"
    finding only if they are all the zone's servers); "any": one of them, or "*";
    no servers listed: any finding of that code and zone."""

    def __init__(self, mode, servers):
        self.mode, self.servers = mode, {norm_server(s) for s in servers}

    def __str__(self):
        return (self.mode + ":" + ",".join(sorted(self.servers))) if self.servers else "any"


def manifest_spec(server, zone_servers):
    return Spec("each", zone_servers if server == "*" else [server])


def code_is(got, want):
    """want: a code, a tuple of acceptable codes, or None (any error finding)."""
    return got == want or (isinstance(want, tuple) and got in want)


def code_str(code):
    return "/".join(code) if isinstance(code, tuple) else code


def covered(findings, code, zone, spec, zone_servers):
    """Do danekit's findings contain (code, zone) naming the servers spec asks for?
    code None: any error finding.  A "*" finding where only some servers are
    affected does not count: it would blame servers that are fine."""
    got = {norm_server(f.get("server", "")) for f in findings
           if (code is None or code_is(f.get("code"), code)) and norm(f.get("zone", "")) == zone
           and (code is not None or f.get("severity") == "error")}
    if not got:
        return False
    if not spec.servers:
        return True
    if "*" in got and (spec.mode == "any" or spec.servers >= set(zone_servers)):
        return True
    return spec.servers <= got if spec.mode == "each" else bool(spec.servers & got)


def derived_has(derived, code, zone, server, zone_servers):
    """Does dnsviz's view contain the manifest's (code, zone, server)?  "*": seen
    zone-wide or at every server; an address: seen there, and (with several
    servers) not at all of them."""
    for c, z, spec in derived:
        if not code_is(code, c) or z != zone:
            continue
        if server == "*":
            if not spec.servers or spec.mode == "any" or spec.servers >= set(zone_servers):
                return True
        elif norm_server(server) in spec.servers and (
                len(zone_servers) < 2 or spec.mode == "any" or not spec.servers >= set(zone_servers)):
            return True
    return False


def beyond_dnsviz(code, zone, view):
    """An error finding dnsviz cannot confirm or deny (see the table)."""
    return code in BEYOND_DNSVIZ or (code == "nsec3-iterations"
                                     and view.nsec3_iter.get(zone, 0) > NSEC3_INSECURE_ABOVE)


def side_by_side(d, report, view, derived):
    lines = [f"--- {d['domain']}"]
    lines.append("  manifest expects: " + (", ".join(
        f"{e.get('code', '<any error>')}@{e['zone']}[{e['server']}]" for e in d["dnssec_expect"]) or "nothing"))
    if report is not None:
        lines.append("  danekit: " + (", ".join(
            f"{f.get('code')}/{f.get('severity')}@{f.get('zone')}[{f.get('server')}]"
            for f in report.get("findings", [])) or "no findings"))
    if view is not None:
        lines.append("  dnsviz derives: " + (", ".join(
            f"{code_str(c)}@{z}[{s}]" for c, z, s in derived) or "nothing"))
        for z, errs in sorted(view.errors.items()):
            shown = sorted({w for w, _ in errs})
            lines.append(f"  dnsviz errors in {z}: " + "; ".join(shown[:6])
                         + (f" (+{len(shown) - 6} more)" if len(shown) > 6 else ""))
    return "\n".join(lines)


def main(argv):
    if len(argv) < 1:
        raise SystemExit("usage: dnssec_lab_test.py DANEKIT [--dnsviz-only]")
    binary, dnsviz_only = argv[0], "--dnsviz-only" in argv[1:]
    env = lab_env()
    with open(env["DANEKIT_LAB_MANIFEST"]) as f:
        man = json.load(f)
    zones = {norm(z["zone"]) for z in man["zones"]}
    cases = [d for d in man["domains"] if "dnssec_expect" in d]
    failures, passed = [], 0
    if not cases:
        failures.append("no manifest domain carries dnssec_expect")
    if shutil.which("dnsviz") is None:
        failures.append("dnsviz is not installed (apt-get install dnsviz; scripts/bootstrap does it)")
        finish("dnssec lab", failures, passed)
    if not dnsviz_only:
        # CLI11 answers an unknown subcommand's --help with the main help and exit 0
        r = in_lab(env, [binary, "dnssec", "--help"], timeout=30)
        if r.returncode != 0 or not re.search(r"Usage: \S*danekit dnssec\b", r.stdout):
            failures.append(f"`danekit dnssec --help` (exit {r.returncode}) shows no dnssec usage: "
                            "the binary has no dnssec command")
            finish("dnssec lab", failures, passed)

    with tempfile.TemporaryDirectory(prefix="dnssec-lab-") as tmp:
        os.chmod(tmp, 0o755)
        with open(os.path.join(tmp, "sitecustomize.py"), "w") as f:
            f.write(SITECUSTOMIZE)
        dnskey = os.path.join(tmp, "root.dnskey")
        root_dnskey_file(env["DANEKIT_LAB_DIR"], env["DANEKIT_LAB_TA"], dnskey)
        for d in cases:
            name, problems = d["domain"], []
            zone = norm(d["zone"])
            zone_servers = [norm_server(s) for s in d.get("dnssec_servers", [])]
            now = datetime.datetime.now(datetime.timezone.utc)
            view, derived, zero_iter = None, [], set()
            try:
                view = DnsvizView(run_dnsviz(env, tmp, d.get("dnssec_names", [name]), name, dnskey), zones, now)
                derived, zero_iter = view.expectations()
            except (RuntimeError, ValueError, KeyError) as e:
                problems.append(f"dnsviz: {e}")

            # 1. the lab case is what it claims (dnsviz sees it)
            if view is not None:
                for e in d["dnssec_expect"]:
                    code, ez = e.get("code"), norm(e["zone"])
                    if code is None:
                        ok = ez in view.errors
                    else:
                        ok = derived_has(derived, code, ez, e["server"], zone_servers)
                    if not ok:
                        problems.append(f"lab case: dnsviz does not see {code or 'an error'} on {ez} [{e['server']}]")
                    elif e.get("severity") == "error" and not beyond_dnsviz(code, ez, view) \
                            and ez not in view.errors:
                        problems.append(f"lab case: {code} is an error, but dnsviz has no error in {ez}")
                if view is not None and zone in view.errors and \
                        not any(e.get("severity") == "error" for e in d["dnssec_expect"]):
                    problems.append(f"lab case: no error expected, but dnsviz has errors in {zone}")
                for code in d.get("dnssec_absent", []):
                    if code == "nsec3-iterations" and zone not in zero_iter:
                        problems.append(f"lab case: dnsviz saw no NSEC3 with 0 iterations in {zone}")

            report = None
            if not dnsviz_only:
                r = in_lab(env, [binary, "dnssec", "--format", "json", "--timeout", "30", "--trust-anchor",
                                 env["DANEKIT_LAB_TA"], "--root-hints", env["DANEKIT_LAB_HINTS"], name], timeout=120)
                try:
                    report = json.loads(r.stdout)
                except ValueError:
                    problems.append(f"danekit dnssec exit {r.returncode}, no JSON on stdout; stderr: "
                                    f"{r.stderr.strip()[-300:]}")
            if report is not None:
                findings = report.get("findings", [])
                errors = [f for f in findings if f.get("severity") == "error"]
                if report.get("schema") != "danekit.dnssec/1" or norm(report.get("domain", "")) != norm(name):
                    problems.append(f"schema {report.get('schema')!r} / domain {report.get('domain')!r}")
                want_exit = 1 if errors else 0
                if r.returncode != want_exit:
                    problems.append(f"exit status {r.returncode} with {len(errors)} error finding(s), "
                                    f"expected {want_exit}")
                # 2. the manifest's expectations
                for e in d["dnssec_expect"]:
                    if not covered(findings, e.get("code"), norm(e["zone"]),
                                   manifest_spec(e["server"], zone_servers), zone_servers):
                        problems.append(f"missing {e.get('code', 'an error finding')} on {e['zone']} "
                                        f"[{e['server']}]")
                for code in d.get("dnssec_absent", []):
                    if any(f.get("code") == code for f in findings):
                        problems.append(f"unexpected {code}")
                if not any(e.get("severity") == "error" for e in d["dnssec_expect"]) and errors:
                    problems.append("error findings where none are expected: "
                                    + ", ".join(f"{f.get('code')}@{f.get('zone')}" for f in errors))
                # 3. no contradiction with dnsviz
                if view is not None:
                    for code, z, spec in derived:
                        if not covered(findings, code, z, spec, view.servers.get(z, set())):
                            problems.append(f"dnsviz implies {code_str(code)} on {z} [{spec}]")
                    for z in sorted(zero_iter):
                        if any(f.get("code") == "nsec3-iterations" and norm(f.get("zone", "")) == z
                               for f in findings):
                            problems.append(f"nsec3-iterations on {z}, where dnsviz saw 0 iterations")
                    for z in sorted(view.errors):
                        if not any(norm(f.get("zone", "")) == z for f in errors):
                            problems.append(f"dnsviz has errors in {z}, danekit no error finding there")
                    for f in errors:
                        fz = norm(f.get("zone", ""))
                        if fz not in view.errors and not beyond_dnsviz(f.get("code"), fz, view):
                            problems.append(f"danekit error {f.get('code')} on {fz}, where dnsviz finds no error")
            if problems:
                failures.append(f"{name}: " + "; ".join(problems) + "\n" + side_by_side(d, report, view, derived))
            else:
                passed += 1
                print(f"ok   {name}: dnsviz implies " + (", ".join(sorted({code_str(c) for c, _, _ in derived}))
                                                         or "nothing"))
    finish("dnssec lab", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1:])
