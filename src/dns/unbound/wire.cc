#include "dns/unbound/wire.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>

#include "danekit/dns.h"

// ldns's headers redefine `bool` for C; they come after every C++ header.
#include <ldns/ldns.h>

namespace danekit {

std::optional<MxRdata> parse_mx_rdata(const std::vector<std::uint8_t>& rdata) {
  if (rdata.size() < 3) return std::nullopt;
  MxRdata mx;
  mx.preference = rdata[0] << 8 | rdata[1];
  std::size_t i = 2;
  std::string name;
  while (true) {
    if (i >= rdata.size()) return std::nullopt;
    std::size_t len = rdata[i++];
    if (len == 0) break;
    if (len > 63 || i + len > rdata.size()) return std::nullopt;
    if (!name.empty()) name.push_back('.');
    // A host name's labels hold letters, digits, '-' and '_' only. Anything
    // else (a dot inside a label, \000, '?') cannot be written as a name to
    // look up without turning it into another name, so the record is
    // malformed, as Postfix's valid_hostname() judges it.
    for (std::size_t k = 0; k < len; ++k) {
      auto c = static_cast<char>(std::tolower(rdata[i + k]));
      bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      if (!ok) return std::nullopt;
      name.push_back(c);
    }
    i += len;
    if (name.size() > 253) return std::nullopt;
  }
  if (i != rdata.size()) return std::nullopt;
  mx.host = std::move(name);
  return mx;
}

std::optional<std::string> parse_address_rdata(std::uint16_t type, const std::vector<std::uint8_t>& rdata) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (type == rrtype::A && rdata.size() == 4) {
    if (!inet_ntop(AF_INET, rdata.data(), buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
  }
  if (type == rrtype::AAAA && rdata.size() == 16) {
    if (!inet_ntop(AF_INET6, rdata.data(), buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
  }
  return std::nullopt;
}

namespace {

std::string lower_no_dot(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

std::string rdf_name(const ldns_rdf* rdf) {
  char* s = rdf ? ldns_rdf2str(rdf) : nullptr;
  std::string out = s ? s : "";
  std::free(s);
  return lower_no_dot(out);
}

// The CNAME chain from the full answer packet (the result's own fields only
// give the final name).
std::vector<std::string> cname_chain(const ldns_pkt* pkt, const std::string& qname) {
  std::vector<std::string> chain;
  ldns_rr_list* answer = ldns_pkt_answer(pkt);
  std::string current = qname;
  for (int hops = 0; hops < 16; ++hops) {
    bool moved = false;
    for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(answer, i);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(rr) < 1) continue;
      if (rdf_name(ldns_rr_owner(rr)) != current) continue;
      current = rdf_name(ldns_rr_rdf(rr, 0));
      chain.push_back(current);
      moved = true;
      break;
    }
    if (!moved) break;
  }
  return chain;
}

// The SOA that came with the reply: the zone and its negative-caching TTL.
void soa_of(const ldns_pkt* pkt, Answer& a) {
  for (ldns_rr_list* list : {ldns_pkt_answer(pkt), ldns_pkt_authority(pkt)}) {
    for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(list, i);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7) continue;
      a.soa_zone = rdf_name(ldns_rr_owner(rr));
      std::uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
      a.negative_ttl = std::min(ldns_rr_ttl(rr), minimum);
      return;
    }
  }
}

}  // namespace

Answer classify_answer(std::string_view qname, std::uint16_t qtype, const ResultFlags& flags,
                       std::span<const std::uint8_t> packet, std::vector<std::vector<std::uint8_t>> rdata) {
  Answer a;
  a.qname = std::string(qname);
  a.qtype = qtype;
  a.ttl = static_cast<std::uint32_t>(flags.ttl > 0 ? flags.ttl : 0);
  ldns_pkt* pkt = nullptr;
  if (!packet.empty() && ldns_wire2pkt(&pkt, packet.data(), packet.size()) == LDNS_STATUS_OK && pkt) {
    a.cname_targets = cname_chain(pkt, a.qname);
    soa_of(pkt, a);
    ldns_pkt_free(pkt);
  }
  // libunbound may return a bogus answer with NOERROR and data present: only
  // the bogus flag tells (lab-notes trap 3).
  if (flags.bogus) {
    a.security = Security::bogus;
    a.kind = AnswerKind::failure;
    a.detail = flags.why_bogus.empty() ? "validation failed" : flags.why_bogus;
    return a;
  }
  if (flags.rcode != 0 && flags.rcode != 3) {
    a.security = Security::indeterminate;
    a.kind = AnswerKind::failure;
    a.detail = flags.rcode == 2 ? "SERVFAIL" : fmt::format("rcode {}", flags.rcode);
    if (flags.rcode == 5) a.detail = "REFUSED";
    return a;
  }
  if (flags.havedata && !flags.nxdomain && rdata.empty()) {
    a.security = Security::indeterminate;
    a.kind = AnswerKind::failure;
    a.detail = "the resolver reported data but returned no records";
    return a;
  }
  a.security = flags.secure ? Security::secure : Security::insecure;
  if (flags.nxdomain) {
    a.kind = AnswerKind::nxdomain;
  } else if (flags.havedata) {
    a.kind = AnswerKind::data;
    a.rdata = std::move(rdata);
  } else {
    a.kind = AnswerKind::nodata;
  }
  return a;
}

}  // namespace danekit
