// DNS answer classification: what libunbound reports for one lookup (its
// flags, the records of the asked type and the reply packet in wire format)
// into danekit's Answer. Input layout, so that any byte string is an input:
//   byte 0      flags: 1 havedata, 2 nxdomain, 4 secure, 8 bogus, 16 why_bogus set
//   byte 1      rcode
//   bytes 2-5   ttl (big-endian, signed)
//   bytes 6-7   qtype (big-endian)
//   byte 8      qname: index into a few names (low 2 bits)
//   byte 9      number of records n (low 3 bits), then n times a length byte
//               and that many RDATA bytes
//   the rest    the reply packet
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "danekit/dns.h"
#include "dns/unbound/wire.h"

namespace {

constexpr std::string_view qnames[] = {"example.org", "mx.example.org", "_25._tcp.mx.example.org", "."};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 10) return 0;
  std::span<const std::uint8_t> in(data, size);
  danekit::ResultFlags flags;
  flags.havedata = in[0] & 1;
  flags.nxdomain = in[0] & 2;
  flags.secure = in[0] & 4;
  flags.bogus = in[0] & 8;
  if (in[0] & 16) flags.why_bogus = "signature expired";
  flags.rcode = in[1];
  flags.ttl = static_cast<int>(static_cast<std::uint32_t>(in[2]) << 24 | in[3] << 16 | in[4] << 8 | in[5]);
  auto qtype = static_cast<std::uint16_t>(in[6] << 8 | in[7]);
  std::string_view qname = qnames[in[8] & 3];
  std::size_t n = in[9] & 7;
  std::size_t pos = 10;
  std::vector<std::vector<std::uint8_t>> rdata;
  for (std::size_t i = 0; i < n && pos < size; ++i) {
    std::size_t len = in[pos++];
    if (len > size - pos) len = size - pos;
    rdata.emplace_back(in.begin() + static_cast<long>(pos), in.begin() + static_cast<long>(pos + len));
    pos += len;
  }
  std::size_t records = rdata.size();
  auto a = danekit::classify_answer(qname, qtype, flags, in.subspan(pos), std::move(rdata));

  // What the policy relies on.
  check(a.qname == qname && a.qtype == qtype);
  check(a.ttl <= 0x7fffffffu);
  check(a.failed() == (a.kind == danekit::AnswerKind::failure));
  check(a.failed() == !a.detail.empty());
  if (flags.bogus) check(a.security == danekit::Security::bogus);
  if (a.kind == danekit::AnswerKind::data) check(!a.rdata.empty() && a.rdata.size() == records);
  if (a.kind != danekit::AnswerKind::data) check(a.rdata.empty());
  if (a.security == danekit::Security::secure) check(flags.secure && !flags.bogus);
  check(a.cname_targets.size() <= 16);
  for (const auto& t : a.cname_targets) check(!t.empty() && t.size() < 1100);
  check(a.soa_zone.size() < 1100);
  if (a.soa_zone.empty()) check(a.negative_ttl == 0);
  return 0;
}
