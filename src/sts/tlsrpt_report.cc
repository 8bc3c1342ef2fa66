// RFC 8460 §4.4 aggregate report JSON into a TlsrptReport. The tolerances
// are listed in include/danekit/tlsrpt_report.h; each is marked here where it
// is applied.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

#include "danekit/tlsrpt_report.h"
#include "util/hex.h"

namespace danekit {

namespace {

using nlohmann::json;

struct TooDeep {
  std::string what;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Tolerance: host and domain names without case and without a trailing dot.
std::string normal_name(std::string_view s) {
  std::string out = lower(s);
  while (!out.empty() && (out.back() == ' ')) out.pop_back();
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// Peer-controlled text is kept printable and short (it is shown and put in JSON).
std::string text_of(const json& v, std::size_t max = 512) {
  return v.is_string() ? sanitize_peer_text(v.get_ref<const std::string&>(), max) : std::string();
}

// The first of `names` present in `obj`. RFC spellings come first.
const json* member(const json& obj, std::initializer_list<std::string_view> names) {
  if (!obj.is_object()) return nullptr;
  for (auto name : names) {
    auto it = obj.find(std::string(name));
    if (it != obj.end()) return &*it;
  }
  return nullptr;
}

class Reader {
 public:
  Reader(TlsrptParse& out, const TlsrptLimits& limits) : out_(out), limits_(limits) {}

  void finding(std::string text) {
    if (out_.findings.size() < 50) out_.findings.push_back(std::move(text));
    if (out_.findings.size() == 50) out_.findings.push_back("more findings left out");
  }

  std::string string_field(const json& obj, std::initializer_list<std::string_view> names, std::string_view where,
                           bool required) {
    const json* v = member(obj, names);
    if (!v) {
      if (required) finding(fmt::format("{}: no {}", where, *names.begin()));
      return {};
    }
    if (!v->is_string()) {
      finding(fmt::format("{}: {} is not a string", where, *names.begin()));
      return {};
    }
    return text_of(*v);
  }

  // Tolerance: a count as a JSON number or a string of decimal digits.
  std::uint64_t count_field(const json& obj, std::string_view name, std::string_view where, bool required) {
    const json* v = member(obj, {name});
    if (!v) {
      if (required) finding(fmt::format("{}: no {}", where, name));
      return 0;
    }
    if (v->is_number_unsigned()) return v->get<std::uint64_t>();
    if (v->is_string()) {
      const auto& s = v->get_ref<const std::string&>();
      if (!s.empty() && s.size() <= 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::stoull(s);
    }
    finding(fmt::format("{}: {} is not a count ({})", where, name, sanitize_peer_text(v->dump(), 40)));
    return 0;
  }

  // Tolerance: one string or an array of strings.
  std::vector<std::string> string_list(const json* v, std::string_view name, std::string_view where, bool names) {
    std::vector<std::string> out;
    if (!v) return out;
    auto add = [&](const json& item) {
      if (!item.is_string()) {
        finding(fmt::format("{}: {} holds a value that is not a string", where, name));
        return;
      }
      out.push_back(names ? normal_name(text_of(item, 255)) : text_of(item));
    };
    if (v->is_array()) {
      for (const auto& item : *v) add(item);
    } else {
      add(*v);
    }
    return out;
  }

  std::optional<std::int64_t> datetime(const json& range, std::string_view name) {
    const json* v = member(range, {name});
    if (!v) {
      finding(fmt::format("date-range: no {}", name));
      return std::nullopt;
    }
    auto t = v->is_string() ? parse_tlsrpt_datetime(v->get_ref<const std::string&>()) : std::nullopt;
    if (!t) finding(fmt::format("date-range: {} is not a date-time ({})", name, sanitize_peer_text(v->dump(), 40)));
    return t;
  }

  TlsrptFailure failure(const json& d, const std::string& where) {
    TlsrptFailure f;
    if (!d.is_object()) {
      finding(fmt::format("{}: not an object", where));
      return f;
    }
    f.result_type = lower(string_field(d, {"result-type"}, where, true));
    f.sending_mta_ip = string_field(d, {"sending-mta-ip"}, where, false);
    // Tolerance: receiving-mx-hostname with or without a trailing dot.
    f.receiving_mx_hostname = normal_name(string_field(d, {"receiving-mx-hostname"}, where, false));
    f.receiving_mx_helo = string_field(d, {"receiving-mx-helo"}, where, false);
    f.receiving_ip = string_field(d, {"receiving-ip"}, where, false);
    f.failed_session_count = count_field(d, "failed-session-count", where, true);
    f.additional_information = string_field(d, {"additional-information"}, where, false);
    // Tolerance: failure-error-code, the spelling of RFC 8460's §4.4 example,
    // for §4.3's failure-reason-code.
    f.failure_reason_code = string_field(d, {"failure-reason-code", "failure-error-code"}, where, false);
    return f;
  }

  TlsrptPolicy policy(const json& p, const std::string& where) {
    TlsrptPolicy out;
    if (!p.is_object()) {
      finding(fmt::format("{}: not an object", where));
      return out;
    }
    const json* pol = member(p, {"policy"});
    if (!pol || !pol->is_object()) {
      finding(fmt::format("{}: no policy", where));
    } else {
      std::string pw = where + ".policy";
      out.policy_type = lower(string_field(*pol, {"policy-type"}, pw, true));
      if (!out.policy_type.empty() && out.policy_type != "sts" && out.policy_type != "tlsa" &&
          out.policy_type != "no-policy-found")
        finding(fmt::format("{}: policy-type '{}' is none of sts, tlsa, no-policy-found", pw, out.policy_type));
      // Tolerance: policy-string as one string instead of an array.
      out.policy_string = string_list(member(*pol, {"policy-string"}), "policy-string", pw, false);
      out.policy_domain = normal_name(string_field(*pol, {"policy-domain"}, pw, true));
      // Tolerance: mx-host-pattern for mx-host, one string or an array.
      out.mx_host = string_list(member(*pol, {"mx-host", "mx-host-pattern"}), "mx-host", pw, true);
    }
    const json* sum = member(p, {"summary"});
    if (!sum || !sum->is_object()) {
      finding(fmt::format("{}: no summary", where));
    } else {
      std::string sw = where + ".summary";
      out.total_successful_session_count = count_field(*sum, "total-successful-session-count", sw, true);
      out.total_failure_session_count = count_field(*sum, "total-failure-session-count", sw, true);
    }
    if (const json* details = member(p, {"failure-details"})) {
      if (!details->is_array()) {
        finding(fmt::format("{}: failure-details is not an array", where));
      } else {
        std::size_t i = 0;
        for (const auto& d : *details) {
          if (++details_ > limits_.max_failure_details) {
            throw TooDeep{fmt::format("more than {} failure-details entries", limits_.max_failure_details)};
          }
          out.failure_details.push_back(failure(d, fmt::format("{}.failure-details[{}]", where, i++)));
        }
      }
    }
    return out;
  }

  TlsrptReport report(const json& j) {
    TlsrptReport r;
    r.organization_name = string_field(j, {"organization-name"}, "report", true);
    r.contact_info = string_field(j, {"contact-info"}, "report", true);
    r.report_id = string_field(j, {"report-id"}, "report", true);
    const json* range = member(j, {"date-range"});
    if (!range || !range->is_object()) {
      finding("report: no date-range");
    } else {
      r.start = datetime(*range, "start-datetime");
      r.end = datetime(*range, "end-datetime");
      if (r.start && r.end && *r.end < *r.start) finding("date-range: end-datetime is before start-datetime");
    }
    const json* policies = member(j, {"policies"});
    if (!policies || !policies->is_array()) {
      finding("report: no policies");
      return r;
    }
    if (policies->size() > limits_.max_policies)
      throw TooDeep{fmt::format("more than {} policies", limits_.max_policies)};
    std::size_t i = 0;
    for (const auto& p : *policies) r.policies.push_back(policy(p, fmt::format("policies[{}]", i++)));
    if (r.policies.empty()) finding("report: policies is empty");
    return r;
  }

 private:
  TlsrptParse& out_;
  const TlsrptLimits& limits_;
  std::size_t details_ = 0;
};

int digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

// RFC 8460 §4.4 uses RFC 3339 date-times ("2016-04-01T00:00:00Z"). Accepted:
// YYYY-MM-DD{T|t| }HH:MM:SS[.fraction][Z|z|+HH:MM|-HH:MM], no zone read as UTC.
std::optional<std::int64_t> parse_tlsrpt_datetime(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  int h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
    return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  int offset = 0;
  if (pos < s.size()) {
    char z = s[pos];
    if ((z == 'Z' || z == 'z') && pos + 1 == s.size()) {
      // UTC
    } else if ((z == '+' || z == '-') && pos + 6 == s.size() && s[pos + 3] == ':') {
      int oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
      offset = (oh * 60 + om) * 60 * (z == '+' ? 1 : -1);
    } else {
      return std::nullopt;
    }
  }
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  return days * 86400 + h * 3600 + mi * 60 + sec - offset;
}

TlsrptParse parse_tlsrpt_report(std::string_view text, const TlsrptLimits& limits) {
  TlsrptParse out;
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);  // a UTF-8 BOM
  std::size_t values = 0;
  json::parser_callback_t bound = [&](int depth, json::parse_event_t, json&) {
    if (depth > limits.max_json_depth)
      throw TooDeep{fmt::format("JSON nests deeper than {} levels", limits.max_json_depth)};
    if (++values > limits.max_json_values)
      throw TooDeep{fmt::format("JSON holds more than {} values", limits.max_json_values)};
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), bound);
  } catch (const TooDeep& e) {
    out.error = e.what;
    return out;
  } catch (const json::parse_error& e) {
    out.error = e.byte > text.size() ? fmt::format("not JSON (it ends early, after {} bytes)", text.size())
                                     : fmt::format("not JSON (at byte {})", e.byte);
    return out;
  }
  if (!j.is_object()) {
    out.error = "the JSON is not an object (RFC 8460 §4.4)";
    return out;
  }
  try {
    Reader reader(out, limits);
    out.report = reader.report(j);
  } catch (const TooDeep& e) {
    out.report.reset();
    out.findings.clear();
    out.error = e.what;
  }
  return out;
}

}  // namespace danekit
