"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) cases of the danekit lab.

Called by labgen.py's build() after every other domain (so no earlier address
moves).  Adds:

- a lab web CA in STATE_DIR/webpki (ca.pem is the one file clients trust:
  danekit --ca-file, curl --cacert, the MTA-STS oracle), with an intermediate
  that signs the policy hosts' and the WebPKI-valid SMTP servers' leaves;
- one signed zone per case: MX hosts with Postfix listeners, mta-sts.<domain>
  A/AAAA records pointing at the lab nginx, _mta-sts and _smtp._tls TXT records;
- an nginx configuration (STATE_DIR/nginx) with one server block per policy
  host, selected by SNI, serving /.well-known/mta-sts.txt;
- per domain a manifest "sts" object with the expected danekit output
  (docs/lab.md, "MTA-STS and TLS-RPT cases").

The expected values are computed here from each case's facts (policy mode,
whether the TXT record and the fetch are valid, which MX certificates pass
WebPKI) by the RFC 8461 rules, so one table says what each case is.
"""

import hashlib
import os

STS_V4 = "127.44.3.1"          # nginx: every policy host
STS_V6 = "fd44::1"
STS_DEAD_V4 = "127.44.3.99"    # assigned, nothing listens: the unreachable policy host
STS_PORT = 443
WEB_DAYS = 825
MAX_AGE = 604800


# --------------------------------------------------------------------------- helpers

def covers(pattern, host):
    """RFC 8461 §4.1: exact match, or "*." plus exactly one leftmost label."""
    p, h = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if p.startswith("*."):
        head, _, tail = h.partition(".")
        return bool(head) and tail == p[2:]
    return p == h


def policy_text(mode, mx, max_age=MAX_AGE, eol="\n", extra=()):
    """extra: (position, line) pairs inserted into the line list (unknown keys)."""
    lines = ["version: STSv1", "mode: " + mode] + ["mx: " + m for m in mx] + \
            ["max_age: %d" % max_age]
    for pos, line in extra:
        lines.insert(pos, line)
    return "".join(line + eol for line in lines)


def body_id(body):
    """As `danekit mta-sts generate` does: first 32 hex digits of SHA-256(body)."""
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def txt(value):
    """A TXT rdata of one character-string."""
    assert '"' not in value and "\\" not in value
    return '"%s"' % value


class WebPKI:
    """The lab web CA: STATE_DIR/webpki/{ca,int}.{pem,key} and leaves NAME.{key,pem,chain.pem}."""

    def __init__(self, G, lab):
        self.G = G
        self.p = G.PKI(os.path.join(lab.d, "webpki"))
        p = self.p
        self.ca_key = p.key("ca")
        self.ca = p.cert("ca", self.ca_key, "danekit lab web root CA", ext="ca", days=3650)
        self.int_key = p.key("int")
        self.int = p.cert("int", self.int_key, "danekit lab web intermediate CA", ext="int",
                          days=3650, issuer=(self.ca, self.ca_key))

    def leaf(self, name, sans, self_signed=False):
        """Key and leaf in one openssl run; chain = leaf + web intermediate (leaf alone
        when self-signed).  Returns dict(key, cert, chain) like labgen's Lab.leaf."""
        p = self.p
        key, cert = p.p(name + ".key"), p.p(name + ".pem")
        cmd = ["openssl", "req", "-x509", "-config", p.cnf, "-extensions", "leaf",
               "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", key, "-subj", "/O=danekit lab web/CN=" + sans[0],
               "-days", str(WEB_DAYS), "-sha256",
               "-addext", "subjectAltName=" + ",".join("DNS:" + s for s in sans),
               "-out", cert]
        if not self_signed:
            cmd += ["-CA", self.int, "-CAkey", self.int_key]
        self.G.run(cmd)
        os.chmod(key, 0o600)
        chain = p.chain(name, [cert] if self_signed else [cert, self.int])
        return dict(key=key, cert=cert, chain=chain)


# --------------------------------------------------------------------------- cases
#
# Each case: domain, description, mx [(host, preference, cert, tlsa)], where cert is
#   "web"        leaf from the web intermediate for the host (passes WebPKI)
#   "wrongname"  leaf from the web intermediate for www.elsewhere.example
#   "self"       self-signed leaf for the host (untrusted issuer)
#   "dane-ca"    leaf from the lab's DANE intermediate (not a web CA)
# and tlsa True for a DANE-EE 3 1 1 record of the leaf's key.
# policy: the served body (None: no policy file); record: the _mta-sts TXT values;
# valid: whether a sender applies the policy (TXT record and body both valid);
# fetch: what an RFC 8461 fetch of the policy gets: ok | redirect | pkix-invalid |
#   unreachable | nxdomain; tlsrpt: the _smtp._tls TXT values and its status.

def cases():
    C = []

    def case(dom, desc, mx, mode="enforce", patterns=None, eol="\n", max_age=MAX_AGE,
             extra=(), record="good", valid=True, fetch="ok", content_type="text/plain",
             tlsrpt=(), tlsrpt_status="absent", codes=(), absent_codes=(), oracle=True,
             deviation=None, nginx=None, policy_cert="web"):
        patterns = [h for h, *_ in mx] if patterns is None else patterns
        body = policy_text(mode, patterns, max_age, eol, extra)
        rid = body_id(body)
        # "stale": the id of an earlier body (max_age one day): the body
        # changed without an id change (danekit mta-sts generate --check)
        old = policy_text(mode, patterns, 86400, eol, extra)
        records = {"good": [rid], "two": [rid, body_id(body + "x")],
                   "bad-id": [rid[:8] + "-" + rid[8:16]], "stale": [body_id(old)]}[record]
        C.append(dict(domain=dom, description=desc, mx=mx, mode=mode, patterns=patterns,
                      body=body, record=[txt("v=STSv1; id=%s" % i) for i in records],
                      valid=valid, fetch=fetch, content_type=content_type,
                      tlsrpt=[txt(t) for t in tlsrpt], tlsrpt_status=tlsrpt_status,
                      codes=list(codes), absent_codes=list(absent_codes), oracle=oracle,
                      deviation=deviation, nginx=nginx or {}, policy_cert=policy_cert))

    def one(dom, cert="web", tlsa=False):
        return [("mx." + dom, 10, cert, tlsa)]

    d = "sts-enforce.example"
    case(d, "enforce, LF line ends; the MX certificate passes WebPKI; no TLSA; TLS-RPT "
         "mailto:", one(d),
         tlsrpt=["v=TLSRPTv1; rua=mailto:tls-reports@" + d], tlsrpt_status="valid",
         absent_codes=["sts-webpki-invalid", "sts-mx-not-covered", "sts-fetch-failed",
                       "tlsrpt-missing", "tlsrpt-invalid"])
    d = "sts-enforce-dane.example"
    case(d, "enforce, CRLF line ends; the MX certificate passes WebPKI and DANE-EE 3 1 1 "
         "matches it; TLS-RPT mailto: and https:", one(d, tlsa=True), eol="\r\n",
         tlsrpt=["v=TLSRPTv1; rua=mailto:tlsrpt@%s,https://reports.%s/tlsrpt" % (d, d)],
         tlsrpt_status="valid",
         absent_codes=["sts-dane-disagree", "sts-webpki-invalid", "sts-policy-syntax"])
    d = "sts-testing.example"
    case(d, "testing; the MX certificate is issued by the lab DANE CA, not a web CA: "
         "reported, mail still goes", one(d, "dane-ca"), mode="testing",
         codes=["sts-webpki-invalid", "tlsrpt-missing"])
    d = "sts-none.example"
    case(d, "mode none (the policy is withdrawn); TLS-RPT with only an ftp: rua (invalid)",
         one(d), mode="none", tlsrpt=["v=TLSRPTv1; rua=ftp://reports.%s/tlsrpt" % d],
         tlsrpt_status="invalid", codes=["tlsrpt-invalid", "tlsrpt-rua-unsupported"])
    d = "sts-notcovered.example"
    case(d, "enforce; MX 10 mx1 is not in the policy, MX 20 mx2 is; both pass WebPKI",
         [("mx1." + d, 10, "web", False), ("mx2." + d, 20, "web", False)],
         patterns=["mx2." + d], codes=["sts-mx-not-covered"])
    d = "sts-wildcard.example"
    case(d, "enforce, mx: *.%s covers mx.%s (one label); TLS-RPT without rua (invalid)"
         % (d, d), one(d), patterns=["*." + d], tlsrpt=["v=TLSRPTv1;"],
         tlsrpt_status="invalid", codes=["tlsrpt-invalid"],
         absent_codes=["sts-mx-not-covered", "sts-wildcard-depth"])
    d = "sts-wildcard-deep.example"
    case(d, "enforce, mx: *.%s; the MX a.b.%s is two labels deep: not covered "
         "(RFC 8461 §4.1), so MTA-STS senders defer" % (d, d),
         [("a.b." + d, 10, "web", False)], patterns=["*." + d],
         codes=["sts-mx-not-covered", "sts-wildcard-depth"], oracle=False,
         deviation="postfix-mta-sts-resolver turns *.zone into Postfix's .zone, which "
                   "matches any depth: it delivers to a.b.%s" % d)
    d = "sts-selfsigned.example"
    case(d, "enforce; the MX serves a self-signed certificate for its name (untrusted "
         "issuer); no TLSA", one(d, "self"), codes=["sts-webpki-invalid"])
    d = "sts-wrongname.example"
    case(d, "enforce; the MX certificate is from the web CA but names www.elsewhere.example",
         one(d, "wrongname"), codes=["sts-webpki-invalid"])
    d = "sts-policy-badcert.example"
    case(d, "the policy host serves a web-CA certificate for mta-sts.elsewhere.example: "
         "the fetch fails, no policy", one(d), valid=False, fetch="pkix-invalid",
         policy_cert="wrongname", codes=["sts-policy-host-invalid"])
    d = "sts-redirect.example"
    case(d, "the policy URL answers 301 to the policy of sts-enforce.example: not "
         "followed, no policy", one(d), valid=False, fetch="redirect",
         nginx=dict(redirect="https://mta-sts.sts-enforce.example/.well-known/mta-sts.txt"),
         codes=["sts-redirect"])
    d = "sts-two-records.example"
    case(d, "two v=STSv1 TXT records: senders ignore MTA-STS; the (valid, enforce) policy "
         "is served; the MX certificate fails WebPKI", one(d, "dane-ca"), record="two",
         valid=False, codes=["sts-multiple-records"], absent_codes=["sts-webpki-invalid"])
    d = "sts-bad-id.example"
    case(d, "the TXT id holds a '-': the record is invalid, no policy; the MX "
         "certificate fails WebPKI", one(d, "dane-ca"), record="bad-id", valid=False,
         codes=["sts-record-invalid"], absent_codes=["sts-webpki-invalid"], oracle=False,
         deviation="postfix-mta-sts-resolver does not check the id syntax: it applies the "
                   "enforce policy and defers")
    d = "sts-unreachable.example"
    case(d, "mta-sts.%s has an A record (%s) where nothing listens: fetch fails, no "
         "policy" % (d, STS_DEAD_V4), one(d), valid=False, fetch="unreachable",
         codes=["sts-fetch-failed"])
    d = "sts-unknown-keys.example"
    case(d, "enforce with unknown keys (ignored) and Content-Type text/plain; "
         "charset=utf-8", one(d),
         extra=[(1, "x-comment: unknown keys are ignored"), (4, "report_uri: none")],
         content_type="text/plain; charset=utf-8", nginx=dict(charset=True),
         absent_codes=["sts-policy-syntax", "sts-content-type"])
    d = "sts-max-age.example"
    case(d, "max_age 31557601 (one over the RFC 8461 bound): the policy is invalid; the MX "
         "certificate fails WebPKI", one(d, "dane-ca"), max_age=31557601, valid=False,
         codes=["sts-max-age-range"], absent_codes=["sts-webpki-invalid"])
    d = "sts-content-type.example"
    case(d, "enforce policy served as application/json: a warning, the policy applies",
         one(d), content_type="application/json", codes=["sts-content-type"], oracle=False,
         deviation="postfix-mta-sts-resolver follows the SHOULD of RFC 8461 §3.3 and ignores "
                   "a policy not served as text/plain (NOTFOUND): it delivers without "
                   "authentication, where danekit (issue 8) only warns")
    d = "sts-dane-only.example"
    case(d, "enforce; the MX certificate is issued by the lab DANE CA (WebPKI-invalid) and "
         "DANE-EE 3 1 1 matches it: DANE senders deliver, MTA-STS senders defer",
         one(d, "dane-ca", tlsa=True), codes=["sts-dane-disagree", "sts-webpki-invalid"])
    d = "sts-stale-id.example"
    case(d, "enforce, CRLF; the TXT id is the digest of an earlier policy body (max_age one "
         "day): senders see a valid policy, `mta-sts generate --check` a stale id",
         one(d), eol="\r\n", record="stale", absent_codes=["sts-webpki-invalid"])
    return C


# --------------------------------------------------------------------------- expected

def senders(mode, dane_delivery, hosts):
    """delivery_by_sender.  hosts in preference order: dict(dane: None (DANE does not
    apply) or True/False (DANE applies and authenticates), covered, pkix (bool))."""
    enforce = mode == "enforce"
    if enforce:
        sts = "authenticated" if any(h["covered"] and h["pkix"] for h in hosts) \
            else "deferred"
    else:
        sts = "opportunistic"
    both = "deferred"
    for h in hosts:   # RFC 8461 §2: DANE decides for a host with a secure TLSA RRset
        if h["dane"] is not None:
            if h["dane"]:
                both = "authenticated"
                break
        elif enforce:
            if h["covered"] and h["pkix"]:
                both = "authenticated"
                break
        else:
            both = "opportunistic"
            break
    return {"dane": dane_delivery, "mta-sts": sts, "dane+mta-sts": both}


def build_sts(L, G):
    """L: labgen's Lab, G: the labgen module (PKI, run, parallel, mxe, ...)."""
    web = WebPKI(G, L)
    cs = cases()

    # every certificate first, in parallel (one openssl run per web leaf)
    jobs = []
    for c in cs:
        for host, _, cert, _ in c["mx"]:
            if cert in ("web", "wrongname", "self"):
                sans = ["www.elsewhere.example"] if cert == "wrongname" else [host]
                jobs.append((host, sans, cert == "self"))
        if c["fetch"] != "unreachable":
            ph = "mta-sts." + c["domain"]
            jobs.append((ph, ["mta-sts.elsewhere.example"] if c["policy_cert"] == "wrongname"
                         else [ph], False))
    leaves = dict(zip([j[0] for j in jobs],
                      G.parallel(lambda j: web.leaf(*j), jobs)))

    nginx_sites = []
    for c in cs:
        dom = c["domain"]
        z = L.zone(dom + ".")
        mxs, hosts = [], []
        dane_any = False
        for host, pref, cert, tlsa in c["mx"]:
            lf = L.leaf(host, [host]) if cert == "dane-ca" else leaves[host]
            a = L.v4()
            z.add(dom + ".", "MX", "%d %s." % (pref, host))
            z.add(host + ".", "A", a)
            if tlsa:
                z.add("_25._tcp.%s." % host, "TLSA", L.tlsa(3, 1, 1, lf["cert"], lf["key"]))
                dane_any = True
            L.listen(a, host, lf)
            pkix = cert == "web"
            mxs.append(dict(G.mxe(host, "authenticated" if tlsa else "none",
                                  [(a, "verified" if tlsa else "encrypted")], pref=pref)))
            hosts.append(dict(host=host, address=a, dane=True if tlsa else None,
                              covered=any(covers(p, host) for p in c["patterns"]), pkix=pkix))
        ph = "mta-sts." + dom
        if c["fetch"] == "unreachable":
            z.add(ph + ".", "A", STS_DEAD_V4)
            paddrs = [STS_DEAD_V4]
        else:
            z.add(ph + ".", "A", STS_V4)
            z.add(ph + ".", "AAAA", STS_V6)
            paddrs = [STS_V4, STS_V6]
            nginx_sites.append((c, ph, leaves[ph]))
        for r in c["record"]:
            z.add("_mta-sts.%s." % dom, "TXT", r)
        for r in c["tlsrpt"]:
            z.add("_smtp._tls.%s." % dom, "TXT", r)

        mode = c["mode"] if c["valid"] else "absent"
        # every host has DANE or none has: verdict and delivery of DANE senders
        verdict, delivery = ("valid", "authenticated") if dane_any else ("none", "opportunistic")
        sts = dict(mode=mode, tls_rpt=c["tlsrpt_status"],
                   delivery_by_sender=senders(mode, delivery, hosts),
                   mx={h["host"]: dict(covered=h["covered"] if c["valid"] else None,
                                       pkix={h["address"]: "valid" if h["pkix"] else "invalid"})
                       for h in hosts},
                   codes=c["codes"], absent_codes=c["absent_codes"], oracle=c["oracle"],
                   policy=dict(host=ph, addresses=paddrs, fetch=c["fetch"],
                               url="https://%s/.well-known/mta-sts.txt" % ph,
                               **({"file": site_file(L, ph), "content_type": c["content_type"],
                                   "mode": c["mode"], "mx": c["patterns"]}
                                  if c["fetch"] == "ok" else {})),
                   txt=c["record"], tlsrpt_txt=c["tlsrpt"])
        if c["deviation"]:
            sts["oracle_deviation"] = c["deviation"]
        L.domain(dom, c["description"], verdict, delivery, mxs, sts=sts)

    # the control: a DANE domain without MTA-STS or TLS-RPT (lab DANE CA leaf)
    for d in L.domains:
        if d["domain"] == "ee311.example":
            m = d["mx"][0]
            a = m["addresses"][0]["address"]
            d["sts"] = dict(mode="absent", tls_rpt="absent",
                            delivery_by_sender=senders("absent", d["delivery"],
                                                       [dict(dane=True, covered=False,
                                                             pkix=False)]),
                            mx={m["host"]: dict(covered=None, pkix={a: "invalid"})},
                            codes=["sts-missing", "tlsrpt-missing"],
                            absent_codes=["sts-fetch-failed", "sts-webpki-invalid"],
                            oracle=True,
                            policy=dict(host="mta-sts.ee311.example", addresses=[],
                                        fetch="nxdomain",
                                        url="https://mta-sts.ee311.example/.well-known/mta-sts.txt"),
                            txt=[], tlsrpt_txt=[])

    for a in (STS_V4, STS_DEAD_V4):
        L.all_v4.append(a)
    L.all_v6.append(STS_V6)
    generate_nginx(L, web, nginx_sites)
    L.sts = dict(ca_file=web.ca, intermediate=web.int, nginx=dict(
        addresses=[STS_V4, STS_V6], port=STS_PORT, unreachable=STS_DEAD_V4,
        conf=os.path.join(L.d, "nginx", "nginx.conf"),
        pid=os.path.join(L.d, "nginx", "nginx.pid")),
        domains=[c["domain"] for c in cs] + ["ee311.example"])


def site_file(L, ph):
    return os.path.join(L.d, "nginx", "www", ph, ".well-known", "mta-sts.txt")


def generate_nginx(L, web, sites):
    nd = os.path.join(L.d, "nginx")
    for sub in ("tmp", "www"):
        os.makedirs(os.path.join(nd, sub), exist_ok=True)
    # a default server for unknown SNI names: the web intermediate's own name
    fallback = web.leaf("nginx-default", ["default.nginx.lab.example"])
    listen = "    listen %s:%d ssl%s;\n    listen [%s]:%d ssl%s;\n"
    out = ["""# danekit lab: MTA-STS policy hosts (generated by labgen_sts.py)
daemon on;
master_process on;
worker_processes 1;
user root;
pid {nd}/nginx.pid;
error_log {nd}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {nd}/access.log;
    client_body_temp_path {nd}/tmp/body;
    proxy_temp_path {nd}/tmp/proxy;
    fastcgi_temp_path {nd}/tmp/fastcgi;
    uwsgi_temp_path {nd}/tmp/uwsgi;
    scgi_temp_path {nd}/tmp/scgi;
    types {{ }}
    default_type text/plain;
    charset_types text/plain;
    server_tokens off;
    keepalive_timeout 5;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    server {{
{listen}        ssl_certificate {fc};
        ssl_certificate_key {fk};
        return 404;
    }}
""".format(nd=nd, fc=fallback["chain"], fk=fallback["key"],
           listen=listen % (STS_V4, STS_PORT, " default_server", STS_V6, STS_PORT,
                            " default_server"))]
    for c, ph, lf in sites:
        root = os.path.join(nd, "www", ph)
        os.makedirs(os.path.join(root, ".well-known"), exist_ok=True)
        with open(site_file(L, ph), "w", newline="") as f:
            f.write(c["body"])
        ng = c["nginx"]
        if "redirect" in ng:
            loc = "return 301 %s;" % ng["redirect"]
        else:
            loc = ""
            if c["content_type"].split(";")[0] != "text/plain":
                loc += "default_type %s; " % c["content_type"]
            if ng.get("charset"):
                loc += "charset utf-8; "
        out.append("""    server {{
{listen}        server_name {ph};
        ssl_certificate {chain};
        ssl_certificate_key {key};
        root {root};
        location = /.well-known/mta-sts.txt {{ {loc}}}
        location / {{ return 404; }}
    }}
""".format(listen=listen % (STS_V4, STS_PORT, "", STS_V6, STS_PORT, ""), ph=ph,
           chain=lf["chain"], key=lf["key"], root=root, loc=loc))
    out.append("}\n")
    with open(os.path.join(nd, "nginx.conf"), "w") as f:
        f.write("".join(out))
