#!/usr/bin/env python3
"""Writes the dns_answer seed corpus (tests/fuzz/corpus/dns_answer): replies as
libunbound hands them over for lab-like lookups, each behind the header that
dns_answer_fuzz.cc reads (flags, rcode, ttl, qtype, qname index, the records
of the asked type). The packets are RFC 1035 wire format with name
compression, as libunbound's answer_packet is. Run it from anywhere."""
import os
import struct

HAVEDATA, NXDOMAIN, SECURE, BOGUS, WHY = 1, 2, 4, 8, 16
QNAMES = ["example.org", "mx.example.org", "_25._tcp.mx.example.org", "."]
A, NS, CNAME, SOA, MX, AAAA, TLSA, RRSIG = 1, 2, 5, 6, 15, 28, 52, 46


class Packet:
    def __init__(self, qid, flags):
        self.buf = bytearray(struct.pack(">HHHHHH", qid, flags, 0, 0, 0, 0))
        self.names = {}

    def name(self, name):
        out = bytearray()
        labels = [] if name == "." else name.rstrip(".").split(".")
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if suffix in self.names:
                out += struct.pack(">H", 0xC000 | self.names[suffix])
                return out
            if len(self.buf) + len(out) < 0x3FFF:
                self.names[suffix] = len(self.buf) + len(out)
            out += bytes([len(labels[i])]) + labels[i].encode()
        return out + b"\0"

    def question(self, qname, qtype):
        self.buf += self.name(qname) + struct.pack(">HH", qtype, 1)
        self._count(0)

    def rr(self, section, owner, rtype, ttl, rdata_parts):
        self.buf += self.name(owner) + struct.pack(">HHI", rtype, 1, ttl)
        at = len(self.buf)
        self.buf += b"\0\0"
        for part in rdata_parts:
            self.buf += self.name(part[1:]) if isinstance(part, str) and part.startswith("@") else part
        struct.pack_into(">H", self.buf, at, len(self.buf) - at - 2)
        self._count(section)
        return bytes(self.buf[at + 2 :])

    def _count(self, section):
        off = 4 + 2 * section
        (n,) = struct.unpack_from(">H", self.buf, off)
        struct.pack_into(">H", self.buf, off, n + 1)


def soa(p, section, zone, ttl, minimum):
    return p.rr(section, zone, SOA, ttl, ["@ns1." + zone, "@hostmaster." + zone,
                                          struct.pack(">IIIII", 2026120101, 7200, 3600, 1209600, minimum)])


def seed(flags, rcode, ttl, qtype, qname_index, records, packet):
    out = bytes([flags, rcode]) + struct.pack(">iHBB", ttl, qtype, qname_index, len(records))
    for r in records:
        out += bytes([len(r)]) + r
    return out + packet


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dns_answer")
    os.makedirs(here, exist_ok=True)
    seeds = {}
    qr_rd_ra_ad = 0x8000 | 0x0100 | 0x0080 | 0x0020

    # Secure MX data (and its RRSIG, as a DO reply carries it).
    p = Packet(1, qr_rd_ra_ad)
    p.question("example.org", MX)
    mx = p.rr(1, "example.org", MX, 3600, [struct.pack(">H", 10), "@mx.example.org"])
    p.rr(1, "example.org", RRSIG, 3600, [struct.pack(">HBBIIIH", MX, 13, 2, 3600, 1798761600, 1796169600, 12345),
                                          "@example.org", bytes(range(64))])
    seeds["mx-secure"] = seed(HAVEDATA | SECURE, 0, 3600, MX, 0, [mx], bytes(p.buf))

    # TLSA behind a CNAME into another zone (the chain is read from the packet).
    p = Packet(2, qr_rd_ra_ad)
    p.question("_25._tcp.mx.example.org", TLSA)
    p.rr(1, "_25._tcp.mx.example.org", CNAME, 300, ["@_25._tcp.mx.provider.example"])
    tlsa = p.rr(1, "_25._tcp.mx.provider.example", TLSA, 300,
                [bytes([3, 1, 1]) + bytes.fromhex("8be5a56f306054f1c2218ee07c04ad01bbc3bcf3ebbcfe4a3e85de6301b9ba90")])
    seeds["tlsa-cname"] = seed(HAVEDATA | SECURE, 0, 300, TLSA, 2, [tlsa], bytes(p.buf))

    # Secure NODATA: no AAAA for the MX host, SOA in the authority section.
    p = Packet(3, qr_rd_ra_ad)
    p.question("mx.example.org", AAAA)
    soa(p, 2, "example.org", 3600, 300)
    seeds["aaaa-nodata"] = seed(SECURE, 0, 0, AAAA, 1, [], bytes(p.buf))

    # Insecure NXDOMAIN for the TLSA owner.
    p = Packet(4, 0x8000 | 0x0100 | 0x0080 | 3)
    p.question("_25._tcp.mx.example.org", TLSA)
    soa(p, 2, "example.org", 86400, 900)
    seeds["tlsa-nxdomain"] = seed(NXDOMAIN, 3, 0, TLSA, 2, [], bytes(p.buf))

    # Bogus: NOERROR with data present, only the flag tells.
    p = Packet(5, 0x8000 | 0x0100 | 0x0080)
    p.question("mx.example.org", A)
    a = p.rr(1, "mx.example.org", A, 3600, [bytes([127, 25, 0, 10])])
    seeds["a-bogus"] = seed(HAVEDATA | BOGUS | WHY, 0, 3600, A, 1, [a], bytes(p.buf))

    # SERVFAIL without a packet worth reading.
    p = Packet(6, 0x8000 | 0x0100 | 0x0080 | 2)
    p.question("example.org", MX)
    seeds["mx-servfail"] = seed(0, 2, 0, MX, 0, [], bytes(p.buf))

    for name, data in seeds.items():
        with open(os.path.join(here, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
