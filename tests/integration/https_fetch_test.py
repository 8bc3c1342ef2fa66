#!/usr/bin/env python3
"""The MTA-STS policy fetch against hostile local HTTPS servers (RFC 8461 §3.3).

Each case starts a server on 127.0.0.1 that misbehaves in one way, runs one
fetch through tests' https_fetch_driver (src/sts/https_fetch.cc, the code
`check` uses), and requires the outcome a user would be told, within the
deadline: a slow body, a 10 MB body, a redirect (not followed), the wrong
content type (fetched: the type is the caller's warning), TLS 1.0 only, a
certificate for another name, an untrusted CA, a 404, a silent server, and an
address that refuses before one that works. The certificates come from a
throwaway CA made with the openssl command.

    https_fetch_test.py DRIVER
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HOST = "mta-sts.fetch.test"
POLICY = b"version: STSv1\r\nmode: enforce\r\nmx: mail.fetch.test\r\nmax_age: 86400\r\n"
TIMEOUT_MS = 3000


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "30", "-subj", "/CN=fetch test CA", cwd=d)
    for name, cn in (("good", HOST), ("other", "www.elsewhere.test")):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName=DNS:{cn}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "30", "-extfile", f"{name}.ext", cwd=d)
    # A second CA the client does not trust.
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "rogue.key", "-out", "rogue.pem", "-days", "30", "-subj", f"/CN={HOST}", "-addext",
            f"subjectAltName=DNS:{HOST}", cwd=d)


class Server:
    """One TLS listener on 127.0.0.1; `handler(conn)` plays the server's part."""

    def __init__(self, d, handler, cert="good", tls10=False, tls=True):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.handler, self.tls, self.stop = handler, tls, False
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if cert == "rogue":
            ctx.load_cert_chain(os.path.join(d, "rogue.pem"), os.path.join(d, "rogue.key"))
        else:
            ctx.load_cert_chain(os.path.join(d, f"{cert}.pem"), os.path.join(d, f"{cert}.key"))
        if tls10:
            import warnings
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1
        self.ctx = ctx
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                raw, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.one, args=(raw,), daemon=True).start()

    def one(self, raw):
        try:
            raw.settimeout(30)
            conn = self.ctx.wrap_socket(raw, server_side=True) if self.tls else raw
            self.handler(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                raw.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.sock.close()


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def respond(status="200 OK", body=POLICY, ctype="text/plain", extra=""):
    def handler(conn):
        read_request(conn)
        head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}" \
               f"Connection: close\r\n\r\n"
        conn.sendall(head.encode() + body)
        conn.unwrap() if hasattr(conn, "unwrap") else None
    return handler


def slow_body(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2000\r\n\r\n")
    for _ in range(60):   # 1 byte every 0.2 s: 12 s, past the 3 s deadline
        conn.sendall(b"v")
        time.sleep(0.2)


def huge_body(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    for _ in range(160):   # 10 MiB, chunked so that no Content-Length gives it away
        conn.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    conn.sendall(b"0\r\n\r\n")


def endless_header(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for i in range(20000):
        conn.sendall(b"X-Filler-%d: %s\r\n" % (i, b"y" * 64))


def cut_short(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 500\r\n\r\n" + POLICY[:30])


def silent(conn):
    time.sleep(10)


def main(driver):
    d = tempfile.mkdtemp(prefix="danekit-fetch-")
    make_pki(d)
    ca = os.path.join(d, "ca.pem")
    # A closed port on another loopback address, for the fallback case.
    closed = socket.socket()
    closed.bind(("127.0.0.2", 0))
    closed_port = closed.getsockname()[1]
    closed.close()

    cases = [
        # name, server kwargs, expected outcome, extra checks
        ("policy served", dict(handler=respond()), "ok", lambda r: r["body"] == POLICY.decode()
         and r["tls_version"] in ("TLSv1.2", "TLSv1.3")),
        ("wrong content type", dict(handler=respond(ctype="text/html")), "ok",
         lambda r: r["content_type"] == "text/html"),
        ("404", dict(handler=respond(status="404 Not Found", body=b"no")), "http-status", lambda r: r["status"] == 404),
        ("redirect not followed", dict(handler=respond(status="301 Moved Permanently", body=b"",
                                                       extra="Location: https://evil.test/p\r\n")),
         "redirect", lambda r: r["location"] == "https://evil.test/p" and r["body"] == ""),
        ("slow body", dict(handler=slow_body), "timeout", None),
        ("10 MB body", dict(handler=huge_body), "too-large", None),
        ("silent server", dict(handler=silent), "timeout", None),
        ("endless header", dict(handler=endless_header), "too-large", None),
        ("body cut short", dict(handler=cut_short), "bad-response", lambda r: r["body"] == ""),
        ("TLS 1.0 only", dict(handler=respond(), tls10=True), "tls-failed", None),
        ("certificate for another name", dict(handler=respond(), cert="other"), "pkix-invalid",
         lambda r: "hostname" in r["detail"].lower()),
        ("untrusted CA", dict(handler=respond(), cert="rogue"), "pkix-invalid", None),
        ("not TLS at all", dict(handler=lambda c: c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n"), tls=False),
         "tls-failed", None),
    ]
    failures, passed = [], 0
    for name, kw, want, extra in cases:
        srv = Server(d, **kw)
        try:
            t0 = time.monotonic()
            run = subprocess.run([driver, HOST, str(srv.port), ca, str(TIMEOUT_MS), "127.0.0.1"],
                                 capture_output=True, text=True, timeout=30)
            took = time.monotonic() - t0
        finally:
            srv.close()
        try:
            r = json.loads(run.stdout)
        except ValueError:
            failures.append(f"{name}: no JSON (exit {run.returncode}): {run.stdout[:200]!r} {run.stderr[:300]!r}")
            continue
        problems = []
        if r["outcome"] != want:
            problems.append(f"outcome {r['outcome']!r} ({r['detail']}), expected {want!r}")
        if extra and not extra(r):
            problems.append(f"result {r}")
        if took > TIMEOUT_MS / 1000 + 2:
            problems.append(f"took {took:.1f} s, deadline {TIMEOUT_MS} ms")
        if not r["detail"]:
            problems.append("no detail for the user")
        if problems:
            failures.extend(f"{name}: {p}" for p in problems)
        else:
            passed += 1
        print(f"{name}: {r['outcome']} ({r['detail']}) in {took:.2f} s")

    # Only the given addresses, in order: a refusing one, then one that works.
    srv = Server(d, handler=respond())
    try:
        closed_run = subprocess.run([driver, HOST, str(srv.port), ca, str(TIMEOUT_MS), "127.0.0.2", "127.0.0.1"],
                                    capture_output=True, text=True, timeout=30)
    finally:
        srv.close()
    r = json.loads(closed_run.stdout)
    if r["outcome"] != "ok" or r["address"] != "127.0.0.1":
        failures.append(f"fallback past a refusing address: {r}")
    else:
        passed += 1
    r = json.loads(subprocess.run([driver, HOST, str(closed_port), ca, str(TIMEOUT_MS), "127.0.0.2"],
                                  capture_output=True, text=True, timeout=30).stdout)
    if r["outcome"] != "connect-failed" or "127.0.0.2" not in r["detail"]:
        failures.append(f"refused: {r}")
    else:
        passed += 1

    for f in failures:
        print(f"FAIL {f}")
    print(f"https fetch: {passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1])
