"""What the lab's oracle senders share: inject one probe message per domain into a
lab Postfix sender instance, follow its maillog until the first delivery attempt of
every message, and delete the messages from its queue.

Used by tests/lab/oracle (the DANE sender, postfix-send) and tests/lab/sts-oracle
(the MTA-STS sender, postfix-sts).

Python 3 standard library only.  Every wait and every read is bounded.
"""

import concurrent.futures
import os
import re
import secrets
import subprocess
import time

QID = re.compile(r"^([0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}):\s")
MSGID = re.compile(r"message-id=<([^>]*)>")
STATUS = re.compile(r"\bto=<([^>]*)>.*\brelay=([^,]+),.*\bstatus=(\w+)(?:\s\((.*)\))?$")
TLS = re.compile(r"\b(Verified|Trusted|Untrusted|Anonymous) TLS connection established")

READ_CHUNK = 4 << 20       # bytes of maillog read per poll
MAX_LINE = 8192            # longer log lines are cut
MAX_LINES = 200000         # log lines kept per run
MAX_LOG_PER_DOMAIN = 50    # relevant lines reported per domain
INJECT_WORKERS = 8
INJECT_TIMEOUT = 30        # seconds for one sendmail


class OracleError(Exception):
    """A setup problem: the message says what failed, in one line."""


def log_line_re(syslog_name):
    return re.compile(r"^\S+\s+\d+\s+[\d:]+\s+\S+\s+(%s/[\w-]+)\[(\d+)\]:\s(.*)$"
                      % re.escape(syslog_name))


def inject(ns, cfg, domains, tag):
    """Submit a message to postmaster@DOMAIN for every domain (in parallel, at most
    INJECT_WORKERS sendmail processes).  Returns {message-id: domain}."""
    run_id = secrets.token_hex(6)
    want = {}
    jobs = []
    for i, dom in enumerate(domains):
        mid = "%s-%s-%d@%s.lab.example" % (tag, run_id, i, tag)
        want[mid] = dom
        msg = ("From: %s@localhost\nTo: postmaster@%s\nSubject: danekit lab %s %s\n"
               "Message-ID: <%s>\n\ndanekit lab %s probe.\n" % (tag, dom, tag, dom, mid, tag))
        jobs.append((dom, msg))

    def one(job):
        dom, msg = job
        try:
            r = subprocess.run(["ip", "netns", "exec", ns, "/usr/sbin/sendmail", "-C", cfg,
                                "-f", tag + "@localhost", "-i", "--", "postmaster@" + dom],
                               input=msg.encode(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=INJECT_TIMEOUT)
        except subprocess.TimeoutExpired:
            return "sendmail for %s took more than %d s" % (dom, INJECT_TIMEOUT)
        if r.returncode != 0:
            err = r.stderr.decode(errors="replace").strip().splitlines()
            return "sendmail failed for %s: %s" % (dom, err[-1] if err else "status %d"
                                                   % r.returncode)
        return None

    with concurrent.futures.ThreadPoolExecutor(INJECT_WORKERS) as ex:
        for err in ex.map(one, jobs):
            if err:
                raise OracleError(err)
    return want


def await_attempts(log, syslog_name, start, want, timeout):
    """Follow LOG from byte offset START until every message in WANT ({message-id:
    domain}) has its first delivery status, or TIMEOUT seconds pass.

    Returns (qid_of {message-id: queue id}, results {queue id: {status, tls, relay,
    reason, log}}, lines).  "tls" is the trust level of the last TLS session of the
    attempt ("none" without one)."""
    line_re = log_line_re(syslog_name)
    lines = []          # (proc, pid, qid, text, raw)
    qid_of = {}
    result = {}
    last_status = {}    # pid -> index of its previous status line
    deadline = time.monotonic() + timeout
    pos = start
    buf = b""
    while True:
        with open(log, "rb") as f:
            f.seek(pos)
            data = f.read(READ_CHUNK)
        pos += len(data)
        buf += data
        *complete, buf = buf.split(b"\n")
        if len(buf) > MAX_LINE:
            buf = buf[:MAX_LINE]
        for raw in complete:
            raw = raw[:MAX_LINE].decode(errors="replace")
            m = line_re.match(raw)
            if not m or len(lines) >= MAX_LINES:
                continue
            proc, pid, text = m.group(1), m.group(2), m.group(3)
            qm = QID.match(text)
            qid = qm.group(1) if qm else None
            idx = len(lines)
            lines.append((proc, pid, qid, text, raw))
            mm = MSGID.search(text)
            if qid and mm and mm.group(1) in want and proc.endswith("/cleanup"):
                qid_of[mm.group(1)] = qid
            sm = STATUS.search(text)
            if qid and sm and qid not in result and proc.endswith(
                    ("/smtp", "/error", "/discard", "/local")):
                prev = last_status.get(pid, -1)
                # this message's lines, and the lines of the same delivery process
                # since its previous status line that carry no other queue id (the
                # TLS lines carry none)
                rel = [l[4] for j, l in enumerate(lines)
                       if l[2] == qid or (l[1] == pid and l[0] == proc and prev < j <= idx
                                          and l[2] in (None, qid))]
                tls = "none"
                for l in rel:
                    t = TLS.search(l)
                    if t:
                        tls = t.group(1)
                relay = sm.group(2)
                result[qid] = dict(status=sm.group(3), tls=tls,
                                   relay=None if relay == "none" else relay,
                                   reason=sm.group(4), log=rel[-MAX_LOG_PER_DOMAIN:])
            if sm:
                last_status[pid] = idx
        if len(qid_of) == len(want) and all(q in result for q in qid_of.values()):
            break
        if time.monotonic() > deadline:
            break
        if len(data) < READ_CHUNK:
            time.sleep(0.2)
    return qid_of, result, lines


def delete_queued(ns, cfg, qids):
    """Delete these queue ids from the instance's queue; returns an error line or None.
    postsuper runs inside the namespace: it checks inet_interfaces."""
    if not qids:
        return None
    try:
        r = subprocess.run(["ip", "netns", "exec", ns, "/usr/sbin/postsuper", "-c", cfg, "-d",
                            "-"], input=("\n".join(qids) + "\n").encode(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    except subprocess.TimeoutExpired:
        return "postsuper -d took more than 30 s"
    if r.returncode != 0:
        return "postsuper -d failed: %s" % r.stderr.decode(errors="replace").strip()
    return None


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return None
