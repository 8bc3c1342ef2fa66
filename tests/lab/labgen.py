#!/usr/bin/python3
"""Generator for the danekit DANE-for-SMTP test lab.

Single source of truth for the lab: zones, certificates, SMTP listeners and the
expected danekit results (manifest.json).  Python 3 standard library only; it
shells out to ldns-keygen/ldns-signzone, openssl and faketime.

Usage: labgen.py generate STATE_DIR
Writes everything below STATE_DIR (see docs/lab.md); it does not start anything.
"""

import base64
import concurrent.futures
import datetime
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time

TTL = 3600
ROOT_NS = "ns.root-lab."
ROOT_IP = "127.53.0.1"   # NSD: root zone
TLD_IP = "127.53.0.2"    # NSD: example. and net.
MAIL_IP = "127.53.0.3"   # NSD: all mail-domain zones
KNOT_IP = "127.53.0.4"   # Knot DNS: roll.example (dynamic updates, online signing)
LAME_IP = "127.53.0.99"  # nothing listens here
SEC_IP = "127.53.0.6"     # NSD: the older secondary copies of some dnssec-* zones
RESOLVER_IP = "127.0.0.1"  # unbound (validating, lab trust anchor only)
ORACLE_V4 = "127.0.0.9"    # oracle Postfix (sender) inet_interfaces
ORACLE_V6 = "fd25::ff"
SMTP_V4 = "127.25.0.%d"
SMTP_V6 = "fd25::%x"

# roll.example (Knot, dynamic): short TTLs so that a TLSA rollover waits seconds
ROLL_ZONE = "roll.example."
ROLL_TTL = 2            # every record in the zone, SOA TTL and SOA minimum (negative TTL)
ROLL_DNSKEY_TTL = 2
ROLL_TSIG = "roll-key."

# Bulk and hosted sets (only with --bulk / --hosted; see docs/lab.md "Bulk set")
BULK_NS_IP = "127.53.0.5"       # NSD: every bulk, hosted and provider.net zone
BULK_TLD = "bulk."              # bulk domains bNNNNN.bulk, parent of their zones
HOSTED_TLD = "hosted."          # hosted domains hNNNNN.hosted
PROVIDER_ZONE = "provider.net."  # mx1..mx4.provider.net, the hosted domains' MX hosts
PROVIDERS = 4
PROVIDER_V4 = "127.27.0.%d"     # provider listener k (1-based)
BULK_UNREACHABLE_V4 = "127.26.255.%d"   # 1..8: assigned, nothing listens
BULK_LISTENERS = 128            # default size of the bulk listener pool (127.26.x.y)
BULK_MAXPROC = 8                # smtpd processes per bulk pool listener
BULK_ALG = 13                   # one shared key (KSK used as CSK) for all bulk zones


def bulk_v4(k):
    """Address of bulk pool listener k (0-based): 127.26.0.1 .. 127.26.0.250, 127.26.1.1 .."""
    return "127.26.%d.%d" % (k // 250, k % 250 + 1)


def bulk_kind(i):
    """Outcome class of bulk domain i (1-based), deterministic."""
    if i % 10 == 0:
        return "invalid"      # TLSA 3 1 1 of a key no listener uses
    if i % 20 == 5:
        return "unsigned"     # zone without DS: verdict none
    if i % 20 == 15:
        return "partial"      # MX 20 mx2 fails (unreachable or wrong TLSA)
    return "valid"


def hosted_kind(j):
    return "unsigned" if j % 10 == 0 else "valid"


# Algorithms used for the mail zones, cycled (8 = RSASHA256 2048 bits, only a few).
ALG_CYCLE = [13, 15, 14, 13, 15, 8]


def run(cmd, **kw):
    kw.setdefault("check", True)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    try:
        return subprocess.run(cmd, **kw)
    except subprocess.CalledProcessError as e:
        sys.stderr.write("labgen: command failed: %s\n%s%s" % (
            " ".join(cmd), e.stdout.decode(errors="replace") if e.stdout else "",
            e.stderr.decode(errors="replace") if e.stderr else ""))
        raise


def pem_blocks(text, kind):
    out, cur = [], None
    for line in text.splitlines():
        if line.startswith("-----BEGIN %s-----" % kind):
            cur = []
        elif line.startswith("-----END %s-----" % kind):
            out.append(base64.b64decode("".join(cur)))
            cur = None
        elif cur is not None:
            cur.append(line.strip())
    return out


# --------------------------------------------------------------------------- PKI

OPENSSL_CNF = """
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[int]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


class PKI:
    """Keys and certificates in DIR/pki with predictable names."""

    def __init__(self, d):
        self.d = d
        os.makedirs(d, exist_ok=True)
        self.cnf = os.path.join(d, "openssl.cnf")
        with open(self.cnf, "w") as f:
            f.write(OPENSSL_CNF)
        self._spki = {}

    def p(self, name):
        return os.path.join(self.d, name)

    def key(self, name, kind="ec"):
        path = self.p(name + ".key")
        if kind == "rsa":
            opts = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        else:
            opts = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        run(["openssl", "genpkey"] + opts + ["-out", path])
        os.chmod(path, 0o600)
        return path

    def cert(self, name, key, cn, sans=(), issuer=None, ext="leaf", days=825,
             faketime=None):
        """issuer: None (self-signed) or (cert, key)."""
        path = self.p(name + ".pem")
        cmd = ["openssl", "req", "-x509", "-config", self.cnf, "-extensions", ext,
               "-key", key, "-subj", "/O=danekit lab/CN=" + cn, "-days", str(days),
               "-sha256", "-out", path]
        if sans:
            cmd += ["-addext", "subjectAltName=" + ",".join("DNS:" + s for s in sans)]
        if issuer:
            cmd += ["-CA", issuer[0], "-CAkey", issuer[1]]
        if faketime:
            cmd = ["faketime", faketime] + cmd
        run(cmd)
        return path

    def der(self, cert):
        with open(cert) as f:
            return pem_blocks(f.read(), "CERTIFICATE")[0]

    def spki(self, key):
        if key not in self._spki:
            out = run(["openssl", "pkey", "-in", key, "-pubout"]).stdout.decode()
            self._spki[key] = pem_blocks(out, "PUBLIC KEY")[0]
        return self._spki[key]

    def chain(self, name, certs):
        path = self.p(name + ".chain.pem")
        with open(path, "w") as out:
            for c in certs:
                with open(c) as f:
                    out.write(f.read())
        return path


def tlsa_rdata(usage, selector, mtype, data):
    if mtype == 1:
        h = hashlib.sha256(data).hexdigest()
    elif mtype == 2:
        h = hashlib.sha512(data).hexdigest()
    else:
        h = data.hex()
    return "%d %d %d %s" % (usage, selector, mtype, h)


# --------------------------------------------------------------------------- DNS

class Zone:
    def __init__(self, name, parent, mode="nsec", alg=13):
        self.name = name            # absolute, e.g. "ee311.example."
        self.parent = parent        # absolute parent zone name or None for root
        self.mode = mode            # nsec | nsec3 | unsigned | expired
        self.alg = alg
        self.rrs = []
        self.edits = []             # (owner, type, new_rdata) applied after signing
        self.ds_mismatch = False
        self.lame = False
        self.ns_ip = MAIL_IP
        self.ds = []
        self.ttl = TTL              # default TTL of its records and of its SOA
        self.neg_ttl = 300          # SOA minimum
        self.shared_key = None      # base path of a key shared with other zones
        self.set = None             # "bulk" | "hosted" | None (the default lab)
        # DNSSEC audit cases (build_dnssec)
        self.sig_expire = 30 * 86400  # signatures expire this long after generation
        self.nsec3_iterations = 0     # NSEC3 zones: ldns-signzone -t
        self.stale_ds = False         # parent also holds the DS of a key never published
        self.secondary = None         # dict(ip, serial, inception, expiration, replace):
        #   a second server (ns2.<zone> at ip) serving an older copy, signed with the same
        #   key: SOA serial + serial (negative), signatures valid from now+inception to
        #   now+expiration (seconds), replace {(owner, type): [rdata, ...]} its RRsets
        self.sec_file = None          # the secondary copy (signed), set by sign_zone

    def add(self, owner, rtype, rdata, ttl=None):
        if ttl is None:
            ttl = self.ttl
        self.rrs.append("%s\t%d\tIN\t%s\t%s" % (owner, ttl, rtype, rdata))


# --------------------------------------------------------------------------- lab

class Lab:
    def __init__(self, d):
        self.d = os.path.abspath(d)
        self.pki = PKI(os.path.join(self.d, "pki"))
        self.zones = {}
        self.listeners = []   # dict(addr, name, key, chain, starttls)
        self.domains = []     # manifest entries
        self.n4 = 0
        self.n6 = 0
        self.algi = 0
        self.all_v4 = []
        self.all_v6 = []
        self.unlistened = []
        self.roll = None      # manifest "rollover" object (dynamic zone on Knot)
        self.bulk = None      # manifest "bulk" object (bulk and hosted sets)
        self.sts = None       # manifest "mta_sts" object (labgen_sts.py: web CA, nginx)

    # addresses
    def v4(self):
        self.n4 += 1
        a = SMTP_V4 % self.n4
        self.all_v4.append(a)
        return a

    def v6(self):
        self.n6 += 1
        a = SMTP_V6 % self.n6
        self.all_v6.append(a)
        return a

    # zones
    def zone(self, name, parent="example.", mode="nsec", alg=None):
        if alg is None and mode != "unsigned":
            alg = ALG_CYCLE[self.algi % len(ALG_CYCLE)]
            self.algi += 1
        z = Zone(name, parent, mode, alg)
        self.zones[name] = z
        return z

    # certificates
    def ca_setup(self):
        p = self.pki
        # CA and intermediate are back-dated so that a leaf "issued" in the past
        # (expired leaf) still sits inside the issuer's validity period.
        self.ca_key = p.key("ca")
        self.ca = p.cert("ca", self.ca_key, "danekit lab root CA", ext="ca",
                         days=7300, faketime="2019-01-01 00:00:00")
        self.int_key = p.key("int")
        self.int = p.cert("int", self.int_key, "danekit lab intermediate CA", ext="int",
                          days=7300, issuer=(self.ca, self.ca_key),
                          faketime="2019-01-02 00:00:00")

    def leaf(self, name, sans, kind="ec", expired=False, chain="leaf+int", cn=None):
        """Creates pki/<name>.key, .pem, .chain.pem; leaf issued by the intermediate."""
        p = self.pki
        key = p.key(name, kind)
        ft, days = (("2020-06-01 00:00:00", 30) if expired else (None, 825))
        cert = p.cert(name, key, cn or sans[0], sans, issuer=(self.int, self.int_key),
                      faketime=ft, days=days)
        parts = {"leaf": [cert], "leaf+int": [cert, self.int],
                 "leaf+int+root": [cert, self.int, self.ca]}[chain]
        ch = p.chain(name, parts)
        return dict(key=key, cert=cert, chain=ch)

    def listen(self, addr, name, leaf, starttls=True, hostname=None, served=None,
               syslog=None, maxproc=None, lset=None, extra=None):
        """served: path of a key+chain file (smtpd_tls_chain_files format) that the
        listener reads instead of leaf's files; tests/lab/swap-cert replaces it.
        syslog: its Postfix syslog_name (default postfix-recv/NAME); maxproc: its
        master.cf process limit (default: default_process_limit); lset: "bulk" or
        "hosted" for the bulk sets' listeners."""
        self.listeners.append(dict(addr=addr, name=name, key=leaf["key"],
                                   chain=leaf["chain"], starttls=starttls,
                                   hostname=hostname or name, served=served,
                                   syslog=syslog or "postfix-recv/" + name,
                                   maxproc=maxproc, set=lset,
                                   extra=(extra["key"], extra["chain"]) if extra else None))

    def tlsa(self, usage, selector, mtype, cert=None, key=None):
        data = self.pki.der(cert) if selector == 0 else self.pki.spki(key)
        return tlsa_rdata(usage, selector, mtype, data)

    def domain(self, name, desc, verdict, delivery, mx, oracle=True, zone=None,
               insecure_mx=False, **extra):
        """extra: additional manifest fields (set, shared_server)."""
        self.domains.append(dict(domain=name, description=desc, zone=zone or name,
                                 verdict=verdict, delivery=delivery, mx=mx,
                                 oracle=oracle,
                                 oracle_expect=oracle_expect(delivery, insecure_mx),
                                 **extra))


def oracle_expect(delivery, insecure_mx=False):
    """What the Postfix oracle should report for a given expected delivery."""
    if delivery == "authenticated":
        return dict(status="sent", tls=["Trusted"] if insecure_mx else ["Verified"])
    if delivery == "encrypted":
        return dict(status="sent", tls=["Untrusted", "Anonymous"])
    if delivery == "opportunistic":
        return dict(status="sent", tls=["Untrusted", "Anonymous", "none"])
    if delivery == "deferred":
        return dict(status="deferred", tls=None)
    return dict(status="bounced", tls=None)


def mxe(host, dane, addrs, pref=10, tlsa_base=None):
    """Expected per-MX entry.  addrs: list of (address, outcome)."""
    return dict(host=host, preference=pref, tlsa_base=tlsa_base or host, dane=dane,
                addresses=[dict(address=a, outcome=o) for a, o in addrs])


# --------------------------------------------------------------------------- domains

def build(lab):
    L = lab
    L.ca_setup()
    ca, ca_key, inter, int_key = L.ca, L.ca_key, L.int, L.int_key

    def simple(dom, tlsa_fn, desc, verdict="valid", delivery="authenticated",
               dane="authenticated", outcome="verified", sans=None, kind="ec",
               expired=False, chain="leaf+int", starttls=True, listen=True,
               mode="nsec", parent="example.", oracle=True, alg=None):
        """One zone DOM, MX 10 mx.DOM, A 127.25.0.N, TLSA from tlsa_fn(leaf)."""
        z = L.zone(dom + ".", parent=parent, mode=mode, alg=alg)
        host = "mx." + dom
        a = L.v4()
        leaf = L.leaf(host, sans or [host], kind=kind, expired=expired, chain=chain)
        z.add(dom + ".", "MX", "10 %s." % host)
        z.add(host + ".", "A", a)
        for rd in (tlsa_fn(leaf) if tlsa_fn else []):
            z.add("_25._tcp.%s." % host, "TLSA", rd)
        if listen:
            L.listen(a, host, leaf, starttls=starttls)
        else:
            L.unlistened.append(a)
        L.domain(dom, desc, verdict, delivery, [mxe(host, dane, [(a, outcome)])],
                 oracle=oracle)
        return z, host, a, leaf

    ee = lambda u, s, m: (lambda lf: [L.tlsa(u, s, m, lf["cert"], lf["key"])])

    # --- DANE-EE variants
    simple("ee311.example", ee(3, 1, 1), "DANE-EE(3) SPKI(1) SHA-256(1) of the served leaf")
    simple("ee301.example", ee(3, 0, 1), "DANE-EE(3) Cert(0) SHA-256(1) of the served leaf")
    simple("ee312.example", ee(3, 1, 2), "DANE-EE(3) SPKI(1) SHA-512(2) of the served leaf")
    simple("ee300.example", ee(3, 0, 0), "DANE-EE(3) Cert(0) Full(0): whole leaf cert (RSA leaf)",
           kind="rsa")
    simple("ee310.example", ee(3, 1, 0), "DANE-EE(3) SPKI(1) Full(0): whole leaf SPKI")

    # --- DANE-TA variants
    simple("ta211.example", lambda lf: [L.tlsa(2, 1, 1, inter, int_key)],
           "DANE-TA(2) SPKI SHA-256 of the intermediate; server sends leaf+int; leaf SAN = MX host")
    simple("ta201.example", lambda lf: [L.tlsa(2, 0, 1, ca, ca_key)],
           "DANE-TA(2) Cert SHA-256 of the root CA; server sends leaf+int+root (RSA leaf)",
           kind="rsa", chain="leaf+int+root")
    simple("ta-wrongname.example", lambda lf: [L.tlsa(2, 1, 1, inter, int_key)],
           "DANE-TA(2) 2 1 1 of the intermediate, but the leaf names www.elsewhere.example only",
           verdict="invalid", delivery="deferred", dane="failed", outcome="name-mismatch",
           sans=["www.elsewhere.example"])
    simple("ta-missing.example", lambda lf: [L.tlsa(2, 0, 1, inter, int_key)],
           "DANE-TA(2) 2 0 1 of the intermediate, but the server sends only its leaf",
           verdict="invalid", delivery="deferred", dane="failed", outcome="mismatch",
           chain="leaf")
    simple("ta-expired.example", lambda lf: [L.tlsa(2, 1, 1, inter, int_key)],
           "DANE-TA(2) 2 1 1 of the intermediate; the leaf expired in 2020 (name ok)",
           verdict="invalid", delivery="deferred", dane="failed", outcome="expired",
           expired=True)
    simple("ee-expired.example", ee(3, 1, 1),
           "DANE-EE 3 1 1 of an expired leaf (DANE-EE ignores dates)", expired=True)
    simple("ee-wrongname.example", ee(3, 1, 1),
           "DANE-EE 3 1 1 of a leaf whose SAN is unrelated (DANE-EE ignores names)",
           sans=["www.elsewhere.example"])

    other = L.pki.key("mx.mismatch.example.other")
    simple("mismatch.example", lambda lf: [L.tlsa(3, 1, 1, key=other)],
           "DANE-EE 3 1 1 of a key the server does not use",
           verdict="invalid", delivery="deferred", dane="failed", outcome="mismatch")
    nxt = L.pki.key("mx.rollover.example.next")
    simple("rollover.example", lambda lf: [L.tlsa(3, 1, 1, lf["cert"], lf["key"]),
                                           L.tlsa(3, 1, 1, key=nxt)],
           "3 1 1 of the current key plus 3 1 1 of the next key; server uses the current one")
    simple("nostarttls.example", ee(3, 1, 1),
           "DANE-EE 3 1 1, but the server does not offer STARTTLS",
           verdict="invalid", delivery="deferred", dane="failed", outcome="no-starttls",
           starttls=False)
    simple("unusable.example", lambda lf: [L.tlsa(0, 0, 1, lf["cert"], lf["key"]),
                                           L.tlsa(1, 1, 1, lf["cert"], lf["key"])],
           "only PKIX-TA(0) 0 0 1 and PKIX-EE(1) 1 1 1 records (of the real cert): unusable for SMTP",
           verdict="unusable", delivery="encrypted", dane="encrypt-only", outcome="encrypted")
    simple("unreachable.example", ee(3, 1, 1),
           "DANE-EE 3 1 1, but nothing listens on the MX address",
           verdict="invalid", delivery="deferred", dane="failed", outcome="unreachable",
           listen=False)
    L.domains[-1]["expect_reasons"] = ["connection-refused"]  # named for what it is, not "DNS"

    def agility(lf):
        return [L.tlsa(3, 1, 1, lf["cert"], lf["key"]),
                "3 1 2 " + hashlib.sha512(b"not the key").hexdigest()]
    simple("agility.example", agility,
           "3 1 1 correct plus 3 1 2 wrong: the (stronger) wrong SHA-512 hides the right SHA-256 "
           "(RFC 7671 digest algorithm agility)",
           verdict="invalid", delivery="deferred", dane="failed", outcome="mismatch")

    # --- unsigned zone (no DS): also hosts mx2 for insecure-host.example
    z, host, a, lf = simple("unsigned.example", ee(3, 1, 1),
                            "unsigned zone (no DS in example.): MX, A and a TLSA record that "
                            "must be ignored", verdict="none", delivery="opportunistic",
                            dane="none", outcome="encrypted", mode="unsigned")
    a2 = L.v4()
    lf2 = L.leaf("mx2.unsigned.example", ["mx2.unsigned.example"])
    z.add("mx2.unsigned.example.", "A", a2)
    z.add("_25._tcp.mx2.unsigned.example.", "TLSA",
          L.tlsa(3, 1, 1, lf2["cert"], lf2["key"]))
    L.listen(a2, "mx2.unsigned.example", lf2)

    z = L.zone("insecure-host.example.")
    z.add("insecure-host.example.", "MX", "10 mx2.unsigned.example.")
    L.domain("insecure-host.example",
             "signed zone whose MX host mx2.unsigned.example lives in the unsigned zone "
             "(which has A and TLSA for it)", "none", "opportunistic",
             [mxe("mx2.unsigned.example", "none", [(a2, "encrypted")])])

    z = L.zone("insecure-mx.example.", mode="unsigned")
    z.add("insecure-mx.example.", "MX", "10 mx.ee311.example.")
    L.domain("insecure-mx.example",
             "unsigned zone (no DS); MX -> mx.ee311.example, a signed host with a good TLSA "
             "(Postfix logs 'Trusted', not 'Verified')", "partial", "authenticated",
             [mxe("mx.ee311.example", "authenticated", [(SMTP_V4 % 1, "verified")])],
             insecure_mx=True)

    simple("nsec.example", None, "signed (NSEC), no TLSA at all (secure denial)",
           verdict="none", delivery="opportunistic", dane="none", outcome="encrypted")
    L.zone("net.", parent=".", mode="nsec3", alg=15)
    simple("nsec3.net", None, "signed with NSEC3 under the NSEC3 TLD net., no TLSA",
           verdict="none", delivery="opportunistic", dane="none", outcome="encrypted",
           mode="nsec3", parent="net.")

    # --- DNSSEC failures
    z, host, a, lf = simple("bogus-tlsa.example", ee(3, 1, 1),
                            "TLSA rdata edited after signing (bogus TLSA RRset)",
                            verdict="dnssec-failure", delivery="deferred", dane="deferred",
                            outcome="not-checked")
    good = L.tlsa(3, 1, 1, lf["cert"], lf["key"])
    z.edits.append(("_25._tcp.%s." % host, "TLSA",
                    good[:-1] + ("0" if good[-1] != "0" else "1")))

    z, host, a, lf = simple("bogus-a.example", ee(3, 1, 1),
                            "the MX host's A rdata edited after signing (bogus A RRset)",
                            verdict="dnssec-failure", delivery="deferred", dane="deferred")
    z.edits.append((host + ".", "A", "127.25.0.250"))
    L.domains[-1]["mx"][0]["addresses"] = []

    z, host, a, lf = simple("expired-sigs.example", ee(3, 1, 1),
                            "zone signed with signatures valid 2021-01-01..2021-02-01 only",
                            verdict="dnssec-failure", delivery="deferred", mode="expired")
    L.domains[-1]["mx"] = []
    z, host, a, lf = simple("ds-mismatch.example", ee(3, 1, 1),
                            "parent publishes the DS of a key the child never uses",
                            verdict="dnssec-failure", delivery="deferred")
    z.ds_mismatch = True
    L.domains[-1]["mx"] = []

    z = L.zone("lame.example.", mode="unsigned")
    z.lame = True
    z.ns_ip = LAME_IP
    L.domain("lame.example", "delegated (NS + glue, no DS) to 127.53.0.99 where nothing "
             "listens: MX lookup indeterminate", "dnssec-failure", "deferred", [])

    # --- CNAMEs
    tz = L.zone("target-zone.example.")
    z = L.zone("cname-mx.example.")
    a = L.v4()
    lf = L.leaf("host.target-zone.example", ["host.target-zone.example", "mx.cname-mx.example"])
    z.add("cname-mx.example.", "MX", "10 mx.cname-mx.example.")
    z.add("mx.cname-mx.example.", "CNAME", "host.target-zone.example.")
    tz.add("host.target-zone.example.", "A", a)
    tz.add("_25._tcp.host.target-zone.example.", "TLSA", L.tlsa(3, 1, 1, lf["cert"], lf["key"]))
    L.listen(a, "host.target-zone.example", lf)
    L.domain("cname-mx.example",
             "MX host mx.cname-mx.example is a CNAME to host.target-zone.example (another "
             "signed zone) which has the TLSA", "valid", "authenticated",
             [mxe("mx.cname-mx.example", "authenticated", [(a, "verified")],
                  tlsa_base="host.target-zone.example")])

    z = L.zone("cname-fallback.example.")
    a = L.v4()
    lf = L.leaf("mx.cname-fallback.example", ["mx.cname-fallback.example",
                                              "host2.target-zone.example"])
    z.add("cname-fallback.example.", "MX", "10 mx.cname-fallback.example.")
    z.add("mx.cname-fallback.example.", "CNAME", "host2.target-zone.example.")
    z.add("_25._tcp.mx.cname-fallback.example.", "TLSA",
          L.tlsa(3, 1, 1, lf["cert"], lf["key"]))
    tz.add("host2.target-zone.example.", "A", a)
    L.listen(a, "mx.cname-fallback.example", lf)
    L.domain("cname-fallback.example",
             "MX host CNAME to host2.target-zone.example which has no TLSA (secure denial); "
             "TLSA at _25._tcp of the original MX name", "valid", "authenticated",
             [mxe("mx.cname-fallback.example", "authenticated", [(a, "verified")],
                  tlsa_base="mx.cname-fallback.example")])

    # extra: TLSA RRset reached through a CNAME
    z = L.zone("tlsa-cname.example.")
    a = L.v4()
    lf = L.leaf("mx.tlsa-cname.example", ["mx.tlsa-cname.example"])
    z.add("tlsa-cname.example.", "MX", "10 mx.tlsa-cname.example.")
    z.add("mx.tlsa-cname.example.", "A", a)
    z.add("_25._tcp.mx.tlsa-cname.example.", "CNAME", "tlsa-for-mx.target-zone.example.")
    tz.add("tlsa-for-mx.target-zone.example.", "TLSA", L.tlsa(3, 1, 1, lf["cert"], lf["key"]))
    L.listen(a, "mx.tlsa-cname.example", lf)
    L.domain("tlsa-cname.example",
             "(extra) _25._tcp.mx.tlsa-cname.example is a CNAME to "
             "tlsa-for-mx.target-zone.example, which holds a good 3 1 1", "valid",
             "authenticated", [mxe("mx.tlsa-cname.example", "authenticated", [(a, "verified")])])

    # extra: DANE-TA 2 1 1 of the root CA key, root not sent by the server
    simple("ta-notsent.example", lambda lf: [L.tlsa(2, 1, 1, ca, ca_key)],
           "(extra) DANE-TA 2 1 1 of the root CA's key; the server sends leaf+int but not "
           "the root: a digest cannot supply the missing TA key (RFC 7671 5.2.2)",
           verdict="invalid", delivery="deferred", dane="failed", outcome="mismatch")
    simple("ta210-notsent.example", lambda lf: [L.tlsa(2, 1, 0, ca, ca_key)],
           "(extra) DANE-TA 2 1 0 (full SPKI) of the root CA's key; the server sends leaf+int "
           "but not the root: the full key in DNS is enough (RFC 7671 5.2.2)")

    # --- several MX hosts
    z = L.zone("multi-mx.example.")
    a1, a2 = L.v4(), L.v4()
    lf1 = L.leaf("mx1.multi-mx.example", ["mx1.multi-mx.example"])
    lf2 = L.leaf("mx2.multi-mx.example", ["mx2.multi-mx.example"])
    k = L.pki.key("mx1.multi-mx.example.other")
    z.add("multi-mx.example.", "MX", "10 mx1.multi-mx.example.")
    z.add("multi-mx.example.", "MX", "20 mx2.multi-mx.example.")
    z.add("mx1.multi-mx.example.", "A", a1)
    z.add("mx2.multi-mx.example.", "A", a2)
    z.add("_25._tcp.mx1.multi-mx.example.", "TLSA", L.tlsa(3, 1, 1, key=k))
    z.add("_25._tcp.mx2.multi-mx.example.", "TLSA", L.tlsa(3, 1, 1, lf2["cert"], lf2["key"]))
    L.listen(a1, "mx1.multi-mx.example", lf1)
    L.listen(a2, "mx2.multi-mx.example", lf2)
    L.domain("multi-mx.example", "MX 10 mx1 (TLSA of another key), MX 20 mx2 (good 3 1 1)",
             "partial", "authenticated",
             [mxe("mx1.multi-mx.example", "failed", [(a1, "mismatch")], pref=10),
              mxe("mx2.multi-mx.example", "authenticated", [(a2, "verified")], pref=20)])

    z = L.zone("mixed.example.")
    a1, a2 = L.v4(), L.v4()
    lf1 = L.leaf("mx1.mixed.example", ["mx1.mixed.example"])
    lf2 = L.leaf("mx2.mixed.example", ["mx2.mixed.example"])
    z.add("mixed.example.", "MX", "10 mx1.mixed.example.")
    z.add("mixed.example.", "MX", "20 mx2.mixed.example.")
    z.add("mx1.mixed.example.", "A", a1)
    z.add("mx2.mixed.example.", "A", a2)
    z.add("_25._tcp.mx1.mixed.example.", "TLSA", L.tlsa(3, 1, 1, lf1["cert"], lf1["key"]))
    L.listen(a1, "mx1.mixed.example", lf1)
    L.listen(a2, "mx2.mixed.example", lf2)
    L.domain("mixed.example", "MX 10 mx1 with a good 3 1 1, MX 20 mx2 without TLSA",
             "partial", "authenticated",
             [mxe("mx1.mixed.example", "authenticated", [(a1, "verified")], pref=10),
              mxe("mx2.mixed.example", "none", [(a2, "encrypted")], pref=20)])

    # --- IPv6
    z = L.zone("ipv6-only.example.")
    a6 = L.v6()
    lf = L.leaf("mx.ipv6-only.example", ["mx.ipv6-only.example"])
    z.add("ipv6-only.example.", "MX", "10 mx.ipv6-only.example.")
    z.add("mx.ipv6-only.example.", "AAAA", a6)
    z.add("_25._tcp.mx.ipv6-only.example.", "TLSA", L.tlsa(3, 1, 1, lf["cert"], lf["key"]))
    L.listen(a6, "mx.ipv6-only.example", lf)
    L.domain("ipv6-only.example", "MX host with only an AAAA record (%s)" % a6, "valid",
             "authenticated", [mxe("mx.ipv6-only.example", "authenticated", [(a6, "verified")])])

    z = L.zone("dual-stack.example.")
    a4, a6 = L.v4(), L.v6()
    lf = L.leaf("mx.dual-stack.example", ["mx.dual-stack.example"])
    lf6 = L.leaf("mx.dual-stack.example.v6", ["mx.dual-stack.example"])
    z.add("dual-stack.example.", "MX", "10 mx.dual-stack.example.")
    z.add("mx.dual-stack.example.", "A", a4)
    z.add("mx.dual-stack.example.", "AAAA", a6)
    z.add("_25._tcp.mx.dual-stack.example.", "TLSA", L.tlsa(3, 1, 1, lf["cert"], lf["key"]))
    L.listen(a4, "mx.dual-stack.example", lf)
    L.listen(a6, "mx.dual-stack.example.v6", lf6, hostname="mx.dual-stack.example")
    L.domain("dual-stack.example",
             "A + AAAA: the IPv4 listener serves the matching cert, the IPv6 listener another key "
             "(the oracle prefers IPv6, fails there, then delivers over IPv4)",
             "partial", "authenticated",
             [mxe("mx.dual-stack.example", "authenticated", [(a4, "verified"), (a6, "mismatch")])])

    # --- implicit MX, null MX, NXDOMAIN
    z = L.zone("implicit-mx.example.")
    a = L.v4()
    lf = L.leaf("implicit-mx.example", ["implicit-mx.example"])
    z.add("implicit-mx.example.", "A", a)
    z.add("_25._tcp.implicit-mx.example.", "TLSA", L.tlsa(3, 1, 1, lf["cert"], lf["key"]))
    L.listen(a, "implicit-mx.example", lf)
    L.domain("implicit-mx.example", "no MX; A at the domain itself, TLSA at "
             "_25._tcp.implicit-mx.example", "valid", "authenticated",
             [mxe("implicit-mx.example", "authenticated", [(a, "verified")], pref=0)])

    z = L.zone("nullmx.example.")
    z.add("nullmx.example.", "MX", "0 .")
    L.domain("nullmx.example", "null MX (RFC 7505): MX 0 .", "no-mail", "undeliverable", [])

    L.domain("nonexistent.example", "no such name: secure NXDOMAIN from example.",
             "no-mail", "undeliverable", [], zone="example")

    # --- dynamic zone for `danekit rollover` (keep last: adding it shifted no address)
    # Served by Knot on KNOT_IP with online signing; TSIG-signed RFC 2136 updates.
    z = L.zone(ROLL_ZONE, mode="knot", alg=13)
    z.ns_ip = KNOT_IP
    z.ttl = z.neg_ttl = ROLL_TTL
    host = "mx.roll.example"
    a = L.v4()
    ka = L.leaf("roll-a", [host])
    kb = L.leaf("roll-b", [host])
    served = L.pki.p(host + ".served.chain")
    write_served(served, ka["key"], ka["chain"])
    z.add(ROLL_ZONE, "MX", "10 %s." % host)
    z.add(host + ".", "A", a)
    z.add("_25._tcp.%s." % host, "TLSA", L.tlsa(3, 1, 1, ka["cert"], ka["key"]))
    L.listen(a, host, ka, served=served)
    L.domain("roll.example", "dynamic zone on Knot (TSIG updates, online signing, TTL %d): "
             "3 1 1 of key A, which the server serves until swap-cert" % ROLL_TTL,
             "valid", "authenticated", [mxe(host, "authenticated", [(a, "verified")])])
    L.roll = dict(zone=ROLL_ZONE.rstrip("."), server=KNOT_IP, port=53,
                  tsig=os.path.join(L.d, "roll.tsig"),
                  tsig_knot=os.path.join(L.d, "roll.tsig.knot"),
                  tsig_name=ROLL_TSIG, tsig_algorithm="hmac-sha256",
                  host=host, address=a, served=served, ttl=ROLL_TTL,
                  key_a=ka["key"], chain_a=ka["chain"], cert_a=ka["cert"],
                  key_b=kb["key"], chain_b=kb["chain"], cert_b=kb["cert"])

    # --- shared servers: one SMTP server, several domains (after roll.example so
    # that no earlier address moves).  A checker that makes one handshake per
    # (address, port, SNI) must still verify it per domain, against that domain's
    # TLSA RRset and reference identifiers.
    z1 = L.zone("share-ta1.example.")
    z2 = L.zone("share-ta2.example.")
    host = "mx.share-ta1.example"
    a = L.v4()
    # DANE-TA chain whose leaf names only share-ta1.example (the next-hop domain of
    # the first domain), not the MX host: RFC 7672 3.2.2 accepts the next-hop domain
    # as a reference identifier when the MX RRset is secure.
    lf = L.leaf(host, ["share-ta1.example"])
    z1.add("share-ta1.example.", "MX", "10 %s." % host)
    z1.add(host + ".", "A", a)
    z1.add("_25._tcp.%s." % host, "TLSA", L.tlsa(2, 1, 1, inter, int_key))
    z2.add("share-ta2.example.", "MX", "10 %s." % host)
    L.listen(a, host, lf)
    L.domain("share-ta1.example",
             "MX %s (2 1 1 of the intermediate); the leaf names only share-ta1.example, "
             "the next-hop domain (secure MX RRset)" % host, "valid", "authenticated",
             [mxe(host, "authenticated", [(a, "verified")])], shared_server=a)
    L.domain("share-ta2.example",
             "MX %s, the same server as share-ta1.example; its leaf names neither "
             "share-ta2.example nor the MX host" % host, "invalid", "deferred",
             [mxe(host, "failed", [(a, "name-mismatch")])], shared_server=a)

    z1 = L.zone("share-rr1.example.")
    z2 = L.zone("share-rr2.example.")
    a = L.v4()
    lf = L.leaf("mx.share-rr1.example", ["mx.share-rr1.example", "mx.share-rr2.example"])
    other = L.pki.key("mx.share-rr2.example.other")
    for zz, dom, rd in ((z1, "share-rr1.example", L.tlsa(3, 1, 1, lf["cert"], lf["key"])),
                        (z2, "share-rr2.example", L.tlsa(3, 1, 1, key=other))):
        h = "mx." + dom
        zz.add(dom + ".", "MX", "10 %s." % h)
        zz.add(h + ".", "A", a)
        zz.add("_25._tcp.%s." % h, "TLSA", rd)
    L.listen(a, "mx.share-rr1.example", lf)
    L.domain("share-rr1.example",
             "MX mx.share-rr1.example, A %s shared with mx.share-rr2.example; 3 1 1 of "
             "the served key" % a, "valid", "authenticated",
             [mxe("mx.share-rr1.example", "authenticated", [(a, "verified")])],
             shared_server=a)
    L.domain("share-rr2.example",
             "MX mx.share-rr2.example, same address %s as mx.share-rr1.example; 3 1 1 of "
             "another key" % a, "invalid", "deferred",
             [mxe("mx.share-rr2.example", "failed", [(a, "mismatch")])], shared_server=a)
    build_dnssec(L)
    build_senders_differ(L)
    # MTA-STS and TLS-RPT (issue 8): web CA, nginx policy hosts, one zone per rule.
    # Last, so that no earlier address moves.
    import labgen_sts
    labgen_sts.build_sts(L, sys.modules[__name__])


def build_senders_differ(L):
    """Classes of domain real DANE senders judge differently from a naive reading
    (issue 6): the oracle (Postfix) is the ground truth for each."""
    inter, int_key = L.int, L.int_key

    # Full(0) records whose data is no certificate or key: OpenSSL refuses them,
    # Postfix logs "unusable TLSA RR" and, with none left, sends over
    # unauthenticated TLS.
    z = L.zone("fullvalue-bad.example.")
    host = "mx.fullvalue-bad.example"
    a = L.v4()
    lf = L.leaf(host, [host])
    z.add("fullvalue-bad.example.", "MX", "10 %s." % host)
    z.add(host + ".", "A", a)
    z.add("_25._tcp.%s." % host, "TLSA", tlsa_rdata(3, 1, 0, bytes([0x30, 0x03, 0x02, 0x01, 0x00]) * 8))
    z.add("_25._tcp.%s." % host, "TLSA", tlsa_rdata(2, 0, 0, b"not a certificate"))
    L.listen(a, host, lf)
    L.domain("fullvalue-bad.example",
             "3 1 0 and 2 0 0 records whose data decodes as neither a key nor a certificate: "
             "all unusable, so TLS without authentication", "unusable", "encrypted",
             [mxe(host, "encrypt-only", [(a, "encrypted")])],
             expect_reasons=["tlsa-unusable"], unusable_codes=["bad-public-key", "bad-certificate"])

    # DANE-TA leaf naming only the next-hop domain, MX RRset unsigned: Postfix
    # accepts the next-hop name anyway and logs "Trusted".
    L.zone("nexthop-insecure.example.", mode="unsigned").add(
        "nexthop-insecure.example.", "MX", "10 mx.nexthop-host.example.")
    z = L.zone("nexthop-host.example.")
    host = "mx.nexthop-host.example"
    a = L.v4()
    lf = L.leaf(host, ["nexthop-insecure.example"])
    z.add(host + ".", "A", a)
    z.add("_25._tcp.%s." % host, "TLSA", L.tlsa(2, 1, 1, inter, int_key))
    L.listen(a, host, lf)
    L.domain("nexthop-insecure.example",
             "unsigned zone, MX %s (signed, 2 1 1 of the intermediate); the leaf names only the "
             "next-hop domain nexthop-insecure.example" % host, "partial", "authenticated",
             [mxe(host, "authenticated", [(a, "verified")])], insecure_mx=True,
             expect_reasons=["ta-nexthop-insecure-mx"])

    # One server, an ECDSA and an RSA certificate (Postfix smtpd_tls_chain_files
    # with two key/chain pairs): it picks by the client's signature algorithms.
    for dom, both in (("dualcert-one.example", False), ("dualcert-both.example", True)):
        z = L.zone(dom + ".")
        host = "mx." + dom
        a = L.v4()
        ec = L.leaf(host + ".ec", [host], kind="ec")
        rsa = L.leaf(host + ".rsa", [host], kind="rsa")
        z.add(dom + ".", "MX", "10 %s." % host)
        z.add(host + ".", "A", a)
        z.add("_25._tcp.%s." % host, "TLSA", L.tlsa(3, 1, 1, ec["cert"], ec["key"]))
        if both:
            z.add("_25._tcp.%s." % host, "TLSA", L.tlsa(3, 1, 1, rsa["cert"], rsa["key"]))
        L.listen(a, host, ec, extra=rsa)
        L.domain(dom, "one server with an ECDSA and an RSA certificate; 3 1 1 of %s"
                 % ("both keys" if both else "the ECDSA key only (RSA-only senders defer)"),
                 "valid", "authenticated", [mxe(host, "authenticated", [(a, "verified")])],
                 dual_cert="both" if both else "ecdsa-only",
                 alternate="verified" if both else "mismatch",
                 **{"expect_reasons" if not both else "absent_reasons": ["dual-cert-one-covered"]})

    # An MX target with an escaped dot in a label ("mx\.decoy"): senders skip it
    # (Postfix: malformed name); looked up as text it would name mx.decoy.<zone>,
    # which exists and serves another key.
    dom = "malformed-mx.example"
    z = L.zone(dom + ".")
    good, decoy = "mx." + dom, "mx.decoy." + dom
    a, ad = L.v4(), L.v4()
    lf = L.leaf(good, [good])
    lfd = L.leaf(decoy, [decoy])
    z.add(dom + ".", "MX", "10 mx\\.decoy.%s." % dom)
    z.add(dom + ".", "MX", "20 %s." % good)
    z.add(good + ".", "A", a)
    z.add("_25._tcp.%s." % good, "TLSA", L.tlsa(3, 1, 1, lf["cert"], lf["key"]))
    z.add(decoy + ".", "A", ad)
    z.add("_25._tcp.%s." % decoy, "TLSA", L.tlsa(3, 1, 1, lf["cert"], lf["key"]))
    L.listen(a, good, lf)
    L.listen(ad, decoy, lfd)
    L.domain(dom, "MX 10 'mx\\.decoy' (an escaped dot: malformed, skipped), MX 20 %s (3 1 1 "
             "of its key); mx.decoy.%s exists and serves a key no record matches" % (good, dom),
             "valid", "authenticated", [mxe(good, "authenticated", [(a, "verified")], pref=20)],
             expect_reasons=["mx-malformed"], absent_hosts=[decoy, "mx.decoy"])


DAY = 86400


def build_dnssec(lab):
    """Cases for `danekit dnssec` (per-server DNSSEC audit) and its dnsviz cross-check
    (tests/integration/dnssec_lab_test.py).  Each is a full mail domain (MX, A, TLSA,
    listener), so `danekit check` and the oracle judge them too.  Manifest fields:
    dnssec_expect [{code, zone, server (address or "*" = every server of the zone),
    severity}] (findings that must be present), dnssec_absent [codes that must not be],
    dnssec_servers (the zone's authoritative addresses), dnssec_names (what dnsviz
    probes: the domain, its MX host, the TLSA owner)."""
    L = lab
    L.all_v4.append(SEC_IP)   # the secondary NSD's address on the namespace's lo

    def expect(code, zone, server="*", severity="warning"):
        return dict(code=code, zone=zone, server=server, severity=severity)

    def case(dom, desc, expects, mode="nsec", alg=None, tlsa_extra=(), absent=(),
             verdict="valid", delivery="authenticated", **zattrs):
        """Zone DOM: MX 10 mx.DOM, A, TLSA 3 1 1 of the served leaf (plus tlsa_extra);
        zattrs set on the Zone (secondary, sig_expire, stale_ds, nsec3_iterations)."""
        z = L.zone(dom + ".", mode=mode, alg=alg)
        for k, v in zattrs.items():
            setattr(z, k, v)
        host = "mx." + dom
        a = L.v4()
        leaf = L.leaf(host, [host])
        current = L.tlsa(3, 1, 1, leaf["cert"], leaf["key"])
        z.add(dom + ".", "MX", "10 %s." % host)
        z.add(host + ".", "A", a)
        for rd in [current, *tlsa_extra]:
            z.add("_25._tcp.%s." % host, "TLSA", rd)
        L.listen(a, host, leaf)
        servers = [z.ns_ip] + ([z.secondary["ip"]] if z.secondary else [])
        L.domain(dom, desc, verdict, delivery, [mxe(host, "authenticated", [(a, "verified")])],
                 dnssec_expect=expects, dnssec_absent=list(absent), dnssec_servers=servers,
                 dnssec_names=[dom, host, "_25._tcp." + host])
        return z, host, current

    # A secondary stuck on a copy from 35 days ago whose signatures over the MX, A and
    # NS RRsets expired 3 days ago; those over DNSKEY, the denial records (NSEC, SOA)
    # and TLSA are valid (as with a signer that gives keyset and denial signatures a
    # longer validity, OpenDNSSEC's Keyset and Denial).  Validators that get a bogus
    # answer from ns2 retry the primary, so the verdict does not depend on the server
    # asked.  With every signature expired it did: libunbound 1.17 with QNAME
    # minimisation (its default) gave up on about 1.5 % of TLSA and 0.7 % of AAAA
    # (NODATA) lookups, and on the keys when the DNSKEY RRSIG was expired; with
    # qname-minimisation: no, on none in 1,000 (see docs/lab.md).
    dom = "dnssec-stale-secondary.example"
    case(dom, "two name servers; ns2 (%s) serves an older copy (serial 35 days back) whose "
         "signatures expired 3 days ago; the primary is current" % SEC_IP,
         [expect("ns-rrsig-expired", dom, SEC_IP, "error"),
          expect("ns-serial-mismatch", dom, SEC_IP)],
         secondary=dict(ip=SEC_IP, serial=-35 * DAY, inception=-65 * DAY,
                        expiration=-3 * DAY, valid_types=("DNSKEY", "NSEC", "SOA", "TLSA")))

    # A TLSA change (a next key pre-published for a rollover) that reached only the
    # primary (danefail/list#47).  Both RRsets match the served key, so any answer
    # authenticates today; the rollover would break senders that ask ns2.
    dom = "dnssec-tlsa-primary-only.example"
    nxt = L.pki.key("mx.%s.next" % dom)
    z, host, current = case(
        dom, "TLSA changed on the primary only (current + next key); ns2 (%s) serves the old "
        "RRset (current key only), validly signed, one serial back" % SEC_IP,
        [expect("ns-tlsa-inconsistent", dom, SEC_IP, "error"),
         expect("ns-serial-mismatch", dom, SEC_IP)],
        tlsa_extra=[L.tlsa(3, 1, 1, key=nxt)])
    z.secondary = dict(ip=SEC_IP, serial=-3600, inception=-DAY, expiration=30 * DAY,
                       replace={("_25._tcp.%s." % host, "TLSA"): [current]})
    L.domains[-1]["dnssec_servers"].append(SEC_IP)

    # Signatures that expire in 2 days and an hour: valid now, re-signing is overdue.
    dom = "dnssec-expiring.example"
    case(dom, "every signature of the zone expires in 2 days (valid now)",
         [expect("rrsig-expiring", dom)], sig_expire=2 * DAY + 3600)

    # A DS left behind by a KSK rollover: the key is gone, the other DS still matches.
    dom = "dnssec-stale-ds.example"
    case(dom, "example. holds two DS: the zone's KSK and a key the zone no longer publishes",
         [expect("ds-stale", dom)], stale_ds=True)

    # NSEC3 iterations (RFC 9276 says 0).  unbound 1.17 (Debian 12) treats NSEC3 proofs
    # with more than 150 iterations (any key size) as insecure: its
    # val-nsec3-keysize-iterations default is "1024 150 2048 150 4096 150".
    dom = "dnssec-nsec3-iter.example"
    case(dom, "NSEC3 with 50 additional iterations (RFC 9276: 0); validators still "
         "validate its denials", [expect("nsec3-iterations", dom)], mode="nsec3",
         nsec3_iterations=50)
    dom = "dnssec-nsec3-iter200.example"
    case(dom, "NSEC3 with 200 iterations: unbound 1.17 treats its denials (AAAA NODATA of "
         "the MX host) as insecure; the MX, A and TLSA answers are direct and stay secure",
         [expect("nsec3-iterations", dom)], mode="nsec3", nsec3_iterations=200)

    # Expected findings for the older DNSSEC-failure zones and a few controls.
    # bogus-*: an RRSIG that does not verify (the RRset was edited after signing).
    more = {
        "expired-sigs.example": [expect("ns-rrsig-expired", "expired-sigs.example",
                                        severity="error")],
        "ds-mismatch.example": [expect("ds-no-match", "ds-mismatch.example",
                                       severity="error")],
        "bogus-tlsa.example": [expect("rrsig-bogus", "bogus-tlsa.example", severity="error")],
        "bogus-a.example": [expect("rrsig-bogus", "bogus-a.example", severity="error")],
        "lame.example": [expect("ns-unreachable", "lame.example", LAME_IP, "error")],
        "ee311.example": [],
        "nsec3.net": [],
    }
    for d in L.domains:
        if d["domain"] in more:
            d["dnssec_expect"] = more[d["domain"]]
            d["dnssec_servers"] = [L.zones[d["zone"] + "."].ns_ip]
            d["dnssec_names"] = [d["domain"], "mx." + d["domain"], "_25._tcp.mx." + d["domain"]]
            if d["domain"] == "lame.example":   # its only server refuses every query
                d["dnssec_names"] = [d["domain"]]
            if d["domain"] == "nsec3.net":
                d["dnssec_absent"] = ["nsec3-iterations"]   # 0 iterations


def write_served(path, key, chain):
    """key + chain in one file (smtpd_tls_chain_files format), replaced atomically."""
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        for p in (key, chain):
            with open(p) as f:
                out.write(f.read())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- bulk

def der_tlv(b, i):
    """(tag, content start, content end) of the DER element at b[i]."""
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, i + n


def cert_spki(der):
    """SubjectPublicKeyInfo (DER) of an X.509 certificate (DER)."""
    _, s, _ = der_tlv(der, 0)          # Certificate
    _, i, _ = der_tlv(der, s)          # tbsCertificate
    tag, _, end = der_tlv(der, i)
    if tag == 0xa0:                    # [0] version
        i = end
    for _ in range(5):                 # serial, signature, issuer, validity, subject
        _, _, i = der_tlv(der, i)
    _, _, end = der_tlv(der, i)
    return der[i:end]


def parallel(fn, items, workers=None):
    """fn over items in threads (the work is in child processes); results in order."""
    items = list(items)
    if not items:
        return []
    workers = workers or max(2, 2 * (os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))


def bulk_dir(lab):
    """Where the bulk sets' thousands of files go: STATE_DIR/bulk, which `lab up`
    makes a symlink into /dev/shm (creating and deleting ~10,000 files on this
    machine's disk costs tens of seconds; on tmpfs nothing)."""
    return os.path.join(lab.d, "bulk")


def pool_leaf(lab, name, san):
    """Key + leaf (issued by the lab intermediate) in one openssl run, in
    STATE_DIR/bulk/pki; returns the leaf dict plus its SPKI (DER) computed here,
    not by another openssl run."""
    p = lab.pki
    pd = os.path.join(bulk_dir(lab), "pki")
    key, cert = os.path.join(pd, name + ".key"), os.path.join(pd, name + ".pem")
    run(["openssl", "req", "-x509", "-config", p.cnf, "-extensions", "leaf",
         "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-subj", "/O=danekit lab/CN=" + san, "-days", "825",
         "-sha256", "-addext", "subjectAltName=DNS:" + san,
         "-CA", lab.int, "-CAkey", lab.int_key, "-out", cert])
    os.chmod(key, 0o600)
    chain = os.path.join(pd, name + ".chain.pem")
    with open(chain, "w") as out:
        for c in (cert, lab.int):
            with open(c) as f:
                out.write(f.read())
    p._spki[key] = cert_spki(p.der(cert))
    return dict(key=key, cert=cert, chain=chain)


def build_bulk(lab, n, m, pool_size):
    """The bulk set (n domains bNNNNN.bulk, each its own zone and MX host on the
    listener pool 127.26.x.y) and the hosted set (m domains hNNNNN.hosted, each its
    own zone, MX on the four shared hosts mx1..mx4.provider.net).  Every zone is
    signed with one shared key (its own DS in the parent, its own signatures)."""
    L = lab
    L.bulk = dict(bulk=n, hosted=m, nameserver=BULK_NS_IP, algorithm=BULK_ALG,
                  mix=dict(bulk="i %% 10 == 0: invalid (TLSA of a key no listener uses); "
                                "i %% 20 == 5: none (unsigned zone); "
                                "i %% 20 == 15: partial (MX 20 mx2 fails: unreachable at "
                                "127.26.255.x when i %% 40 == 15, else TLSA of another key); "
                                "otherwise valid",
                           hosted="j %% 10 == 0: unsigned zone (MX RRset insecure); "
                                  "otherwise signed"),
                  pool=[], providers=[], unreachable=[])
    if n:
        L.zone(BULK_TLD, parent=".", alg=BULK_ALG).set = "bulk"
    if m:
        L.zone(HOSTED_TLD, parent=".", alg=BULK_ALG).set = "hosted"
    keydir = os.path.join(bulk_dir(L), "dns", "keys")
    os.makedirs(keydir, exist_ok=True)
    os.makedirs(os.path.join(bulk_dir(L), "pki"), exist_ok=True)
    shared = keygen(keydir, "bulk-shared.", BULK_ALG)
    other = L.pki.key("bulk.other")          # TLSA of the invalid bulk domains
    other_tlsa = L.tlsa(3, 1, 1, key=other)

    def mkzone(name, parent, signed, zset):
        z = L.zone(name, parent=parent, mode="nsec" if signed else "unsigned",
                   alg=BULK_ALG if signed else None)
        z.ns_ip = BULK_NS_IP
        z.set = zset
        if signed:
            z.shared_key = shared
        return z

    # listener pool: one key and certificate per address
    pool = []
    if n:
        pool_size = max(1, min(pool_size, n))
        names = ["bulk-pool-%03d" % (k + 1) for k in range(pool_size)]
        leaves = parallel(lambda k: pool_leaf(L, names[k], "%s.pool.bulk" % names[k]),
                          range(pool_size))
        for k, lf in enumerate(leaves):
            a = bulk_v4(k)
            L.all_v4.append(a)
            L.listen(a, names[k], lf, hostname="%s.pool.bulk" % names[k],
                     maxproc=BULK_MAXPROC, lset="bulk")
            pool.append((a, lf))
            L.bulk["pool"].append(a)
        for u in range(1, 9):
            a = BULK_UNREACHABLE_V4 % u
            L.all_v4.append(a)
            L.unlistened.append(a)
            L.bulk["unreachable"].append(a)

    npartial = 0
    for i in range(1, n + 1):
        dom = "b%05d.bulk" % i
        kind = bulk_kind(i)
        z = mkzone(dom + ".", BULK_TLD, kind != "unsigned", "bulk")
        host = "mx." + dom
        a, lf = pool[(i - 1) % len(pool)]
        z.add(dom + ".", "MX", "10 %s." % host)
        z.add(host + ".", "A", a)
        good = L.tlsa(3, 1, 1, lf["cert"], lf["key"])
        z.add("_25._tcp.%s." % host, "TLSA", other_tlsa if kind == "invalid" else good)
        if kind == "valid":
            mx = [mxe(host, "authenticated", [(a, "verified")])]
            desc = "bulk: 3 1 1 of listener %s's key" % a
            verdict, delivery = "valid", "authenticated"
        elif kind == "invalid":
            mx = [mxe(host, "failed", [(a, "mismatch")])]
            desc = "bulk: 3 1 1 of a key listener %s does not use" % a
            verdict, delivery = "invalid", "deferred"
        elif kind == "unsigned":
            mx = [mxe(host, "none", [(a, "encrypted")])]
            desc = "bulk: unsigned zone (no DS); its 3 1 1 must be ignored"
            verdict, delivery = "none", "opportunistic"
        else:
            h2 = "mx2." + dom
            if i % 40 == 15:
                a2 = BULK_UNREACHABLE_V4 % (npartial % 8 + 1)
                z.add(h2 + ".", "A", a2)
                z.add("_25._tcp.%s." % h2, "TLSA", good)
                out2 = "unreachable"
                desc = "bulk: MX 10 good; MX 20 %s where nothing listens" % a2
            else:
                a2, lf2 = pool[i % len(pool)]
                z.add(h2 + ".", "A", a2)
                z.add("_25._tcp.%s." % h2, "TLSA", other_tlsa)
                out2 = "mismatch"
                desc = "bulk: MX 10 good; MX 20 on %s with the TLSA of another key" % a2
            npartial += 1
            z.add(dom + ".", "MX", "20 %s." % h2)
            mx = [mxe(host, "authenticated", [(a, "verified")], pref=10),
                  mxe(h2, "failed", [(a2, out2)], pref=20)]
            verdict, delivery = "partial", "authenticated"
        L.domain(dom, desc, verdict, delivery, mx, set="bulk")

    # provider: four shared MX hosts, each its own listener, key and syslog_name
    if m:
        pz = mkzone(PROVIDER_ZONE, "net.", True, "hosted")
        provs = []
        for k in range(1, PROVIDERS + 1):
            host = "mx%d.provider.net" % k
            a = PROVIDER_V4 % k
            L.all_v4.append(a)
            lf = L.leaf(host, [host])
            pz.add(host + ".", "A", a)
            pz.add("_25._tcp.%s." % host, "TLSA", L.tlsa(3, 1, 1, lf["cert"], lf["key"]))
            syslog = "postfix-recv/provider%d" % k
            L.listen(a, host, lf, syslog=syslog, lset="hosted")
            provs.append((host, a))
            L.bulk["providers"].append(dict(host=host, address=a, port=25,
                                            syslog_name=syslog))
    for j in range(1, m + 1):
        dom = "h%05d.hosted" % j
        kind = hosted_kind(j)
        z = mkzone(dom + ".", HOSTED_TLD, kind != "unsigned", "hosted")
        (h1, a1), (h2, a2) = provs[(j - 1) % PROVIDERS], provs[j % PROVIDERS]
        z.add(dom + ".", "MX", "10 %s." % h1)
        z.add(dom + ".", "MX", "20 %s." % h2)
        mx = [mxe(h1, "authenticated", [(a1, "verified")], pref=10),
              mxe(h2, "authenticated", [(a2, "verified")], pref=20)]
        if kind == "valid":
            L.domain(dom, "hosted: MX 10 %s, MX 20 %s (signed, 3 1 1)" % (h1, h2),
                     "valid", "authenticated", mx, set="hosted")
        else:
            # like insecure-mx.example: the MX RRset is insecure, but the provider
            # hosts are signed with good TLSA records, so DANE still applies to them
            # (the oracle logs "Trusted"); danekit: partial
            L.domain(dom, "hosted, unsigned zone (insecure MX RRset): MX 10 %s, MX 20 %s"
                     % (h1, h2), "partial", "authenticated", mx, insecure_mx=True,
                     set="hosted")


# --------------------------------------------------------------------------- signing

def utc(ts):
    return datetime.datetime.utcfromtimestamp(ts).strftime("%Y%m%d%H%M%S")


def keygen(keydir, zname, alg):
    cmd = ["ldns-keygen", "-a", str(alg), "-k"]
    if alg == 8:
        cmd += ["-b", "2048"]
    base = run(cmd + [zname], cwd=keydir).stdout.decode().strip()
    return os.path.join(keydir, base)


def read_ds(base):
    with open(base + ".ds") as f:
        return [l.strip() for l in f if l.strip()]


def dname_wire(name):
    """Canonical (lower-case) wire form of an absolute domain name."""
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.lower().encode()
    return out + b"\0"


def shared_key_for(keydir, shared, zname):
    """Key files for zone zname that reuse the shared key pair `shared` (base path):
    K<zone>.key is the shared DNSKEY under the zone's owner name, K<zone>.private a
    symlink.  Returns (base path, DS line like ldns-key2ds: SHA-256)."""
    with open(shared + ".key") as f:
        fields = f.read().split(";")[0].split()
    flags, proto, alg = int(fields[3]), int(fields[4]), int(fields[5])
    pub = base64.b64decode("".join(fields[6:]))
    rdata = flags.to_bytes(2, "big") + bytes([proto, alg]) + pub
    acc = sum(b << 8 if i % 2 == 0 else b for i, b in enumerate(rdata))
    tag = (acc + (acc >> 16)) & 0xffff
    base = os.path.join(keydir, "K%s+%03d+%05d" % (zname, alg, tag))
    with open(base + ".key", "w") as f:
        f.write("%s\tIN\tDNSKEY\t%d %d %d %s\n" % (zname, flags, proto, alg,
                                                   base64.b64encode(pub).decode()))
    if not os.path.lexists(base + ".private"):
        os.symlink(os.path.basename(shared) + ".private", base + ".private")
    digest = hashlib.sha256(dname_wire(zname) + rdata).hexdigest()
    return base, "%s\tIN\tDS\t%d %d 2 %s" % (zname, tag, alg, digest)


def sign_zone(lab, z, zonefile, signed, keydir, now):
    shared_ds = None
    if z.shared_key:
        key, shared_ds = shared_key_for(keydir, z.shared_key, z.name)
    else:
        key = keygen(keydir, z.name, z.alg)
    if z.mode == "expired":
        inc, exp = "20210101000000", "20210201000000"
    else:
        inc, exp = utc(now - 86400), utc(now + z.sig_expire)
    cmd = ["ldns-signzone", "-i", inc, "-e", exp, "-f", signed, "-o", z.name]
    if z.mode == "nsec3":
        cmd += ["-n", "-t", str(z.nsec3_iterations)]
    run(cmd + [zonefile, key])
    if z.ds_mismatch:
        other = keygen(keydir, z.name, z.alg)   # never used for signing
        z.ds = read_ds(other)
    elif shared_ds:
        z.ds = [shared_ds]
    else:
        z.ds = read_ds(key)
    if z.stale_ds:
        gone = keygen(keydir, z.name, z.alg)   # a retired KSK whose DS stayed behind
        z.ds = z.ds + read_ds(gone)
    if z.edits:
        apply_edits(signed, z.edits)
    if z.secondary:
        z.sec_file = sign_secondary(z, zonefile, key, cmd[-3:] if z.mode == "nsec3" else [], now)
    return key


def sign_secondary(z, zonefile, key, nsec3, now):
    """The secondary's older copy of zone z: the primary's unsigned file with the SOA
    serial moved back by z.secondary["serial"] and the RRsets in ["replace"] swapped,
    signed with the same key and the secondary's own validity window.  The RRSIGs
    over the types in ["valid_types"] come from a second signing of the same copy
    valid from a day ago to 30 days ahead (as with a signer that gives the DNSKEY
    RRset and denial records a longer validity).  Returns the signed file."""
    sec = z.secondary
    replace = {(o.lower(), t): rds for (o, t), rds in sec.get("replace", {}).items()}
    out = []
    with open(zonefile) as f:
        for line in f.read().splitlines():
            fl = line.split("\t")
            if len(fl) >= 5 and fl[3] == "SOA":
                soa_f = fl[4].split()
                soa_f[2] = str(int(soa_f[2]) + sec["serial"])
                line = "\t".join(fl[:4] + [" ".join(soa_f)])
            elif len(fl) >= 5 and (fl[0].lower(), fl[3]) in replace:
                continue
            out.append(line)
    for (owner, rtype), rds in replace.items():
        out += ["%s\t%d\tIN\t%s\t%s" % (owner, z.ttl, rtype, rd) for rd in rds]
    unsigned = zonefile + ".secondary"
    with open(unsigned, "w") as f:
        f.write("\n".join(out) + "\n")
    signed = unsigned + ".signed"
    run(["ldns-signzone", "-i", utc(now + sec["inception"]), "-e", utc(now + sec["expiration"]),
         "-f", signed, "-o", z.name] + nsec3 + [unsigned, key])
    valid_types = set(sec.get("valid_types", ()))
    if valid_types:
        longer = unsigned + ".longer.signed"
        run(["ldns-signzone", "-i", utc(now - 86400), "-e", utc(now + 30 * 86400), "-f", longer,
             "-o", z.name] + nsec3 + [unsigned, key])

        def covers(line):
            fl = line.split("\t")
            return len(fl) >= 5 and fl[3] == "RRSIG" and fl[4].split()[0] in valid_types
        with open(longer) as f:
            keep = [line for line in f.read().splitlines() if covers(line)]
        with open(signed) as f:
            lines = [line for line in f.read().splitlines() if not covers(line)]
        if not keep:
            raise SystemExit("labgen: no RRSIG over %s in %s" % (sorted(valid_types), longer))
        with open(signed, "w") as f:
            f.write("\n".join(lines + keep) + "\n")
    return signed


def apply_edits(path, edits):
    with open(path) as f:
        lines = f.read().splitlines()
    for owner, rtype, new in edits:
        done = False
        for i, line in enumerate(lines):
            f = line.split("\t")
            if len(f) >= 5 and f[0].lower() == owner.lower() and f[3] == rtype:
                lines[i] = "\t".join(f[:4] + [new])
                done = True
                break
        if not done:
            raise SystemExit("labgen: edit target %s %s not found in %s" % (owner, rtype, path))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def soa(z, serial):
    z.rrs.insert(0, "%s\t%d\tIN\tSOA\tns.%s hostmaster.%s %d 3600 900 604800 %d" % (
        z.name, z.ttl, z.name if z.name != "." else "root-lab.",
        z.name if z.name != "." else "root-lab.", serial, z.neg_ttl))


def generate_dns(lab):
    d = os.path.join(lab.d, "dns")
    keydir = os.path.join(d, "keys")
    os.makedirs(keydir, exist_ok=True)
    now = int(time.time())
    serial = now

    root = Zone(".", None, "nsec", 8)
    example = lab.zones.setdefault("example.", Zone("example.", ".", "nsec", 13))
    example.ns_ip = TLD_IP
    net = lab.zones["net."]
    net.ns_ip = TLD_IP
    # extra TLDs (bulk., hosted.) only with the bulk sets
    extra = [z for z in lab.zones.values() if z.parent == "." and z not in (example, net)]
    tlds = [example, net] + extra
    for tld in extra:
        tld.ns_ip = TLD_IP

    root.add(".", "NS", ROOT_NS)
    root.add(ROOT_NS, "A", ROOT_IP)
    for tld in tlds:
        root.add(tld.name, "NS", "ns.nic." + tld.name)
        root.add("ns.nic." + tld.name, "A", TLD_IP)
        tld.add(tld.name, "NS", "ns.nic." + tld.name)
        tld.add("ns.nic." + tld.name, "A", TLD_IP)

    mail = [z for z in lab.zones.values() if z.parent not in (".", None)]
    for z in mail:
        ns = "ns." + z.name
        z.add(z.name, "NS", ns)
        z.add(ns, "A", z.ns_ip)
        parent = lab.zones[z.parent]
        parent.add(z.name, "NS", ns)
        parent.add(ns, "A", z.ns_ip)
        if z.secondary:   # second server, in the delegation and in the zone's NS RRset
            for zz in (z, parent):
                zz.add(z.name, "NS", "ns2." + z.name)
                zz.add("ns2." + z.name, "A", z.secondary["ip"])

    files = {}

    bulkdns = os.path.join(bulk_dir(lab), "dns")

    def emit(z):
        soa(z, serial)
        base = "root" if z.name == "." else z.name.rstrip(".")
        zf = os.path.join(bulkdns if z.set else d, base + ".zone")
        with open(zf, "w") as f:
            f.write("$ORIGIN %s\n" % z.name)
            f.write("\n".join(z.rrs) + "\n")
        if z.mode == "unsigned":
            files[z.name] = zf
        elif z.mode == "knot":
            # Knot signs it online; the keys are made now so the DS is in the parent
            files[z.name] = zf
            generate_knot(lab, z, zf)
        else:
            sf = zf + ".signed"
            sign_zone(lab, z, zf, sf, os.path.dirname(z.shared_key) if z.shared_key
                      else keydir, now)
            files[z.name] = sf

    # zones are independent until their DS goes into the parent: sign in parallel
    parallel(emit, mail)
    for z in mail:
        for ds in z.ds:
            lab.zones[z.parent].rrs.append(ds.replace("\tIN\t", "\t%d\tIN\t" % TTL, 1)
                                           if "\tIN\t" in ds else ds)
    parallel(emit, tlds)
    for tld in tlds:
        for ds in tld.ds:
            root.rrs.append(ds.replace("\tIN\t", "\t%d\tIN\t" % TTL, 1))
    emit(root)

    # trust anchor + hints
    with open(os.path.join(lab.d, "root.key"), "w") as f:
        f.write("; danekit lab root trust anchor (DS of the lab root KSK)\n")
        for ds in root.ds:
            f.write(ds.replace("\tIN\t", "\t%d\tIN\t" % TTL, 1) + "\n")
    with open(os.path.join(lab.d, "root.hints"), "w") as f:
        f.write("; danekit lab root hints\n")
        f.write(".\t3600000\tIN\tNS\t%s\n" % ROOT_NS)
        f.write("%s\t3600000\tIN\tA\t%s\n" % (ROOT_NS, ROOT_IP))

    # NSD instances
    groups = {"root": (ROOT_IP, ["."]),
              "tld": (TLD_IP, [z.name for z in tlds]),
              "mail": (MAIL_IP, [z.name for z in mail if not z.lame and z.mode != "knot"
                                 and z.ns_ip == MAIL_IP])}
    sec = [z.name for z in mail if z.secondary]
    if sec:   # the secondaries' older copies (build_dnssec); all on SEC_IP
        groups["sec"] = (SEC_IP, sec)
    bulk = [z.name for z in mail if z.ns_ip == BULK_NS_IP]
    if bulk:
        groups["bulk"] = (BULK_NS_IP, bulk)
    for inst, (ip, names) in groups.items():
        nd = os.path.join(lab.d, "nsd", inst)
        os.makedirs(nd, exist_ok=True)
        with open(os.path.join(nd, "nsd.conf"), "w") as f:
            f.write("""server:
    ip-address: {ip}
    port: 53
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    database: ""
    zonefiles-write: 0
    hide-version: yes
    verbosity: 1
    zonesdir: "{nd}"
    pidfile: "{nd}/nsd.pid"
    logfile: "{nd}/nsd.log"
    xfrdfile: "{nd}/xfrd.state"
    zonelistfile: "{nd}/zone.list"
    xfrdir: "{nd}"
remote-control:
    control-enable: no
""".format(ip=ip, nd=nd))
            for n in names:
                f.write('zone:\n    name: "%s"\n    zonefile: "%s"\n' % (
                    n, lab.zones[n].sec_file if inst == "sec" else files[n]))


# --------------------------------------------------------------------------- Knot

def generate_knot(lab, z, zonefile):
    """Knot DNS instance for the dynamic zone z: config, TSIG key, KASP db with a
    fixed KSK + ZSK (algorithm 13, manual policy: no automatic rollovers).  Sets z.ds.
    Everything Knot writes (pid, socket, KASP/journal/timer db, log) is in DIR/knot."""
    kd = os.path.join(lab.d, "knot")
    os.makedirs(kd, exist_ok=True)
    os.chmod(kd, 0o700)
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    for name, text in (("roll.tsig", 'key "%s" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n'
                        % (ROLL_TSIG, secret)),
                       ("roll.tsig.knot", "hmac-sha256:%s:%s\n" % (ROLL_TSIG, secret))):
        path = os.path.join(lab.d, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
    conf = os.path.join(kd, "knot.conf")
    with open(conf, "w") as f:
        f.write("""# danekit lab: Knot DNS for {zone} (dynamic updates + online signing)
server:
    identity: ""
    version: ""
    user: root:root
    rundir: "{kd}"
    pidfile: "{kd}/knot.pid"
    listen: {ip}@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1

database:
    storage: "{kd}"
    kasp-db: "{kd}/kasp"
    journal-db: "{kd}/journal"
    timer-db: "{kd}/timers"
    catalog-db: "{kd}/catalog"

control:
    listen: "{kd}/knot.sock"

log:
  - target: "{kd}/knot.log"
    any: info

key:
  - id: {tsig}
    algorithm: hmac-sha256
    secret: {secret}

acl:
  - id: roll-update
    address: 127.0.0.0/8
    key: {tsig}
    action: update

policy:
  - id: roll
    algorithm: ecdsap256sha256
    manual: on
    nsec3: off
    dnskey-ttl: {dnskey_ttl}
    zone-max-ttl: {ttl}
    rrsig-lifetime: 30d
    rrsig-refresh: 7d
    cds-cdnskey-publish: none

template:
  - id: default
    storage: "{kd}"
    semantic-checks: on
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: changes
    serial-policy: increment

zone:
  - domain: {zone}
    file: "{zonefile}"
    dnssec-signing: on
    dnssec-policy: roll
    acl: roll-update
""".format(zone=z.name, kd=kd, ip=z.ns_ip, tsig=ROLL_TSIG, secret=secret,
           dnskey_ttl=ROLL_DNSKEY_TTL, ttl=z.ttl, zonefile=zonefile))
    os.chmod(conf, 0o600)   # holds the TSIG secret
    run(["knotc", "-c", conf, "conf-check"])
    km = ["keymgr", "-c", conf, z.name]
    run(km + ["generate", "algorithm=13", "ksk=yes", "zsk=no"])
    run(km + ["generate", "algorithm=13", "ksk=no", "zsk=yes"])
    ds = []
    for line in run(km + ["ds"]).stdout.decode().splitlines():
        f = line.split()
        if len(f) == 6 and f[1] == "DS" and f[4] == "2":   # SHA-256 only, like ldns
            ds.append("%s\tIN\tDS\t%s" % (f[0], " ".join(f[2:])))   # like ldns .ds
    if not ds:
        raise SystemExit("labgen: keymgr printed no DS for %s" % z.name)
    z.ds = ds


# --------------------------------------------------------------------------- daemons

def generate_unbound(lab):
    ud = os.path.join(lab.d, "unbound")
    os.makedirs(ud, exist_ok=True)
    with open(os.path.join(ud, "unbound.conf"), "w") as f:
        f.write("""server:
    interface: {ip}
    port: 53
    do-ip6: no
    do-daemonize: yes
    username: ""
    chroot: ""
    directory: "{ud}"
    pidfile: "{ud}/unbound.pid"
    logfile: "{ud}/unbound.log"
    use-syslog: no
    verbosity: 1
    val-log-level: 2
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    access-control: ::1 allow
    access-control: fd25::/16 allow
    do-not-query-localhost: no
    root-hints: "{d}/root.hints"
    trust-anchor-file: "{d}/root.key"
    trust-anchor-signaling: no
    root-key-sentinel: no
    msg-cache-size: {c[0]}
    rrset-cache-size: {c[1]}
    key-cache-size: {c[2]}
    neg-cache-size: {c[3]}
    infra-cache-numhosts: 100
    cache-max-ttl: 300
    cache-max-negative-ttl: 60
    module-config: "validator iterator"
    harden-dnssec-stripped: yes
    qname-minimisation: no
    minimal-responses: no
    outgoing-range: 64
    num-queries-per-thread: 32
remote-control:
    control-enable: no
""".format(ip=RESOLVER_IP, ud=ud, d=lab.d,
           # thousands of bulk zones: room for their keys and answers
           c=("16m", "32m", "16m", "4m") if lab.bulk else ("1m", "2m", "1m", "1m")))
    with open(os.path.join(lab.d, "resolv.conf"), "w") as f:
        f.write("nameserver %s\noptions trust-ad timeout:3 attempts:2\n" % RESOLVER_IP)


MASTER_COMMON = """\
# service type  private unpriv  chroot  wakeup  maxproc command
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def postfix_instance(lab, name, main, master_extra):
    base = os.path.join(lab.d, name)
    etc = os.path.join(base, "etc")
    os.makedirs(etc, exist_ok=True)
    os.makedirs(os.path.join(base, "queue"), exist_ok=True)
    data = os.path.join(base, "data")
    os.makedirs(data, exist_ok=True)
    common = """\
compatibility_level = 3.6
config_directory = {etc}
queue_directory = {base}/queue
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
maillog_file = {base}/maillog
maillog_file_prefixes = {d}
syslog_name = {name}
biff = no
readme_directory = no
alias_maps =
alias_database =
inet_protocols = all
smtputf8_enable = no
""".format(etc=etc, base=base, data=data, d=lab.d, name=name)
    with open(os.path.join(etc, "main.cf"), "w") as f:
        f.write(common + main)
    with open(os.path.join(etc, "master.cf"), "w") as f:
        f.write(MASTER_COMMON + master_extra)
    return etc


def generate_postfix(lab):
    # receivers
    lines = []
    for l in lab.listeners:
        addr = "[%s]" % l["addr"] if ":" in l["addr"] else l["addr"]
        lines.append("%s:25 inet n - n - %s smtpd" % (addr, l["maxproc"] or "-"))
        lines.append("  -o syslog_name=%s" % l["syslog"])
        lines.append("  -o myhostname=%s" % l["hostname"])
        if l["starttls"]:
            lines.append("  -o smtpd_tls_security_level=may")
            if l["served"]:
                lines.append("  -o smtpd_tls_chain_files=%s" % l["served"])
            else:
                files = [l["key"], l["chain"]] + list(l.get("extra") or ())
                lines.append("  -o smtpd_tls_chain_files=%s" % ",".join(files))
        else:
            lines.append("  -o smtpd_tls_security_level=none")
    first = lab.listeners[0]
    recv_main = """\
myhostname = receiver.lab.example
mydestination =
myorigin = $myhostname
inet_interfaces = all
mynetworks = 127.0.0.0/8 [::1]/128 [fd25::]/16
relay_domains =
default_transport = discard:lab receiver
relay_transport = discard:lab receiver
local_transport = discard:lab receiver
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
smtpd_tls_security_level = may
smtpd_tls_chain_files = {k},{c}
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_client_connection_rate_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 100
default_process_limit = 200
""".format(k=first["key"], c=first["chain"])
    postfix_instance(lab, "postfix-recv", recv_main, "\n".join(lines) + "\n")

    send_main = """\
myhostname = oracle.lab.example
myorigin = localhost
mydestination = localhost
local_transport = discard:oracle local
inet_interfaces = {v4}, [{v6}]
mynetworks = 127.0.0.0/8
relayhost =
default_transport = smtp
smtp_tls_security_level = dane
smtp_dns_support_level = dnssec
smtp_tls_loglevel = 1
smtp_address_preference = ipv6
smtp_connect_timeout = 3s
smtp_helo_timeout = 5s
smtp_starttls_timeout = 5s
smtp_mail_timeout = 5s
smtp_rcpt_timeout = 5s
smtp_data_init_timeout = 5s
smtp_data_xfer_timeout = 10s
smtp_data_done_timeout = 10s
smtp_quit_timeout = 5s
smtp_per_request_deadline = yes
smtp_connection_cache_on_demand = no
smtp_tls_session_cache_database =
smtp_mx_address_limit = 10
smtp_mx_session_limit = 4
smtp_skip_5xx_greeting = no
queue_run_delay = 3600s
minimal_backoff_time = 3600s
maximal_backoff_time = 3600s
bounce_queue_lifetime = 1h
maximal_queue_lifetime = 1h
default_destination_concurrency_limit = 50
initial_destination_concurrency = 5
default_process_limit = 100
notify_classes =
""".format(v4=ORACLE_V4, v6=ORACLE_V6)
    postfix_instance(lab, "postfix-send", send_main, "")


def write_manifest(lab):
    m = dict(schema="danekit.lab/1",
             generated=datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
             state_dir=lab.d,
             trust_anchor=os.path.join(lab.d, "root.key"),
             root_hints=os.path.join(lab.d, "root.hints"),
             resolver=RESOLVER_IP,
             nameservers=dict(root=ROOT_IP, tld=TLD_IP, mail=MAIL_IP, dynamic=KNOT_IP,
                              secondary=SEC_IP),
             oracle_delivery_map={  # how oracle_expect is derived from delivery
                 "authenticated": "status sent, tls Verified (or Trusted when the MX RRset is insecure)",
                 "encrypted": "status sent, tls Untrusted or Anonymous",
                 "opportunistic": "status sent, tls Untrusted/Anonymous/none",
                 "deferred": "status deferred",
                 "undeliverable": "status bounced"},
             listeners=[dict(address=l["addr"], name=l["name"], starttls=l["starttls"],
                             key=l["key"], chain=l["chain"], syslog_name=l["syslog"],
                             **({"served": l["served"]} if l["served"] else {}),
                             **({"set": l["set"]} if l["set"] else {}),
                             **({"maxproc": l["maxproc"]} if l["maxproc"] else {}))
                        for l in lab.listeners],
             unlistened=lab.unlistened,
             zones=sorted([dict(zone=".", parent=None, signing="nsec", algorithm=8,
                                ds_mismatch=False, nameserver=ROOT_IP)] +
                          [dict(zone=z.name, parent=z.parent,
                                signing="nsec" if z.mode == "knot" else z.mode,
                                algorithm=z.alg, ds_mismatch=z.ds_mismatch,
                                nameserver=z.ns_ip,
                                **({"secondary": z.secondary["ip"]} if z.secondary else {}),
                                **({"nsec3_iterations": z.nsec3_iterations}
                                   if z.mode == "nsec3" else {}),
                                **({"signer": "knot", "dynamic": True, "ttl": z.ttl}
                                   if z.mode == "knot" else {}),
                                **({"set": z.set} if z.set else {}),
                                **({"shared_key": True} if z.shared_key else {}))
                           for z in lab.zones.values()],
                          key=lambda x: x["zone"]),
             domains=lab.domains,
             rollover=lab.roll,
             **({"mta_sts": lab.sts} if lab.sts else {}),
             **({"bulk": lab.bulk} if lab.bulk else {}))
    with open(os.path.join(lab.d, "manifest.json"), "w") as f:
        json.dump(m, f, indent=2)
        f.write("\n")


def generate(d, bulk=0, hosted=0, listeners=BULK_LISTENERS):
    t0 = time.time()
    lab = Lab(d)
    build(lab)
    if bulk or hosted:
        build_bulk(lab, bulk, hosted, listeners)
    generate_dns(lab)
    generate_unbound(lab)
    generate_postfix(lab)
    write_manifest(lab)
    with open(os.path.join(lab.d, "addresses"), "w") as f:
        for a in [ROOT_IP, TLD_IP, MAIL_IP, KNOT_IP, ORACLE_V4] + \
                 ([BULK_NS_IP] if lab.bulk else []) + lab.all_v4:
            f.write("%s/32\n" % a)
        for a in [ORACLE_V6] + lab.all_v6:
            f.write("%s/128\n" % a)
    sys.stderr.write("labgen: %d domains, %d zones, %d SMTP listeners generated in %.1fs\n" % (
        len(lab.domains), len(lab.zones) + 1, len(lab.listeners), time.time() - t0))


def main(argv):
    usage = "usage: labgen.py generate STATE_DIR [--bulk N] [--hosted M] [--listeners P]"
    if len(argv) < 2 or argv[0] != "generate":
        sys.exit(usage)
    opts = dict(bulk=0, hosted=0, listeners=BULK_LISTENERS)
    rest = argv[2:]
    while rest:
        o = rest.pop(0)
        if o.startswith("--") and o[2:] in opts and rest and rest[0].isdigit():
            opts[o[2:]] = int(rest.pop(0))
        else:
            sys.exit(usage)
    if opts["listeners"] < 1 or opts["listeners"] > 250 * 250:
        sys.exit("labgen: --listeners must be 1..62500")
    generate(argv[1], **opts)


if __name__ == "__main__":
    main(sys.argv[1:])
