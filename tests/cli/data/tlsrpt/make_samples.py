#!/usr/bin/env python3
"""Makes the binary and mail samples in this directory from source/*.json.

The outputs are committed; run this again only after changing a source:
  dane-provider.json.gz  gzip (RFC 8460 §5.2) of source/dane-provider.json
  report-mail.eml        a whole report mail (RFC 8460 §5.3): multipart/report,
                         report-type=tlsrpt, source/sts-report.json as an
                         application/tlsrpt+gzip part in base64, CRLF lines
  no-report.eml          a multipart/report mail without a tlsrpt part
  truncated.json.gz      the first half of dane-provider.json.gz
  bomb.json.gz           65 MiB once decompressed, over the 64 MiB limit
gzip headers carry no time stamp and no name, so the bytes are reproducible.
"""
import base64
import gzip
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def read(name):
    with open(os.path.join(HERE, "source", name), "rb") as f:
        return f.read()


def mail(parts):
    boundary = "----=_tlsrpt_7a3c9e"
    head = [
        "From: tls-reporting@service-d.example",
        "Date: Sat, 21 Nov 2026 04:12:00 +0000",
        "Subject: Report Domain: example.org",
        "    Submitter: service-d.example",
        "    Report-ID: <d-20261120-example.org>",
        "TLS-Report-Domain: example.org",
        "TLS-Report-Submitter: service-d.example",
        "To: tlsrpt@example.org",
        "Message-ID: <d-20261120-example.org@service-d.example>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=\"tlsrpt\";",
        "    boundary=\"{}\"".format(boundary),
        "",
        "This is a multipart message in MIME format.",
        "",
    ]
    lines = head
    for headers, body in parts:
        lines += ["--" + boundary] + headers + [""] + body
    lines += ["--" + boundary + "--", ""]
    return "\r\n".join(lines).encode("ascii")


def main():
    dane = gz(read("dane-provider.json"))
    write("dane-provider.json.gz", dane)
    write("truncated.json.gz", dane[: len(dane) // 2])
    write("bomb.json.gz", gz(b'{"policies": [' + b" " * (65 << 20)))
    text = (["Content-Type: text/plain; charset=\"us-ascii\"", "Content-Transfer-Encoding: 7bit"],
            ["This is an aggregate TLS report from service-d.example"])
    b64 = base64.b64encode(gz(read("sts-report.json"))).decode("ascii")
    report = (["Content-Type: application/tlsrpt+gzip",
               "Content-Transfer-Encoding: base64",
               "Content-Disposition: attachment;",
               "    filename=\"service-d.example!example.org!1763596800!1763683199!d-20261120.json.gz\""],
              [b64[i:i + 76] for i in range(0, len(b64), 76)])
    write("report-mail.eml", mail([text, report]))
    write("no-report.eml", mail([text]))


if __name__ == "__main__":
    main()
