#include <fmt/format.h>

#include "danekit/dns.h"

namespace danekit {

std::string_view to_string(Security s) {
  switch (s) {
    case Security::secure: return "secure";
    case Security::insecure: return "insecure";
    case Security::bogus: return "bogus";
    case Security::indeterminate: return "indeterminate";
  }
  return "indeterminate";
}

std::string_view to_string(AnswerKind k) {
  switch (k) {
    case AnswerKind::data: return "data";
    case AnswerKind::nodata: return "nodata";
    case AnswerKind::nxdomain: return "nxdomain";
    case AnswerKind::failure: return "failure";
  }
  return "failure";
}

std::string rrtype_name(std::uint16_t type) {
  switch (type) {
    case rrtype::A: return "A";
    case rrtype::CNAME: return "CNAME";
    case rrtype::SOA: return "SOA";
    case rrtype::MX: return "MX";
    case rrtype::TXT: return "TXT";
    case rrtype::AAAA: return "AAAA";
    case rrtype::TLSA: return "TLSA";
  }
  return fmt::format("TYPE{}", type);
}

}  // namespace danekit
