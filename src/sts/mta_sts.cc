// MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) records, policies and MX patterns:
// pure parsers over what the DNS and the policy fetch returned.
#include "danekit/mta_sts.h"

#include <fmt/format.h>
#include <algorithm>
#include <map>

#include "danekit/cert.h"
#include "danekit/tlsa.h"
#include "util/hex.h"

namespace danekit::sts {

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_wsp(char c) { return c == ' ' || c == '\t'; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Input quoted in a finding: printable ASCII, cut short.
std::string quote(std::string_view s) { return sanitize_peer_text(s, 80); }

// Findings with a cap per code, so a hostile body of 4,000 bad lines yields
// a short list.
class Findings {
 public:
  explicit Findings(std::vector<Finding>& out) : out_(out) {}
  void add(std::string_view code, std::string text) {
    auto& n = count_[std::string(code)];
    ++n;
    if (n < max_findings_per_code) {
      out_.push_back({std::string(code), std::move(text)});
    } else if (n == max_findings_per_code) {
      out_.push_back({std::string(code), std::move(text) + " (further findings of this kind are not listed)"});
    }
  }

 private:
  std::vector<Finding>& out_;
  std::map<std::string, std::size_t> count_;
};

std::string_view trim_wsp(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

// sts-ext-name / tlsrpt-ext-name / sts-policy-ext-name (RFC 8461 §3.1, §3.2;
// RFC 8460 §3): (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
bool valid_field_name(std::string_view s) {
  if (s.empty() || s.size() > 32 || !is_alnum(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

// sts-ext-value / tlsrpt-ext-value: 1*(%x21-3A / %x3C / %x3E-7E), that is
// visible ASCII without '=' and ';'.
bool valid_ext_value(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7e && c != '=' && c != ';'; });
}

// A TXT record of the form `version *(sep field) [sep]` with sep = *WSP ";"
// *WSP (RFC 8461 §3.1, RFC 8460 §3): the fields after the version, or why
// the record is malformed.
struct Field {
  std::string_view name, value;
};
struct SplitRecord {
  std::vector<Field> fields;
  std::string error;
};

SplitRecord split_record(std::string_view rec, std::string_view version) {
  SplitRecord out;
  std::size_t i = version.size();
  while (true) {
    while (i < rec.size() && is_wsp(rec[i])) ++i;
    if (i == rec.size()) break;
    if (rec[i] != ';') {
      out.error = fmt::format("expected ';' before '{}'", quote(rec.substr(i, 20)));
      return out;
    }
    ++i;
    while (i < rec.size() && is_wsp(rec[i])) ++i;
    if (i == rec.size()) break;  // the optional trailing separator
    auto end = i;
    while (end < rec.size() && rec[end] != ';' && !is_wsp(rec[end])) ++end;
    auto field = rec.substr(i, end - i);
    if (field.empty()) {
      out.error = "an empty field between two ';'";
      return out;
    }
    auto eq = field.find('=');
    if (eq == std::string_view::npos) {
      out.error = fmt::format("field '{}' has no '='", quote(field));
      return out;
    }
    out.fields.push_back({field.substr(0, eq), field.substr(eq + 1)});
    i = end;
  }
  return out;
}

// Whether a TXT record begins with `version` as a whole token.
bool starts_with_version(std::string_view rec, std::string_view version) {
  if (!rec.starts_with(version)) return false;
  return rec.size() == version.size() || rec[version.size()] == ';' || is_wsp(rec[version.size()]);
}

// A record a human meant as one of this kind, though a sender discards it:
// wrong case, leading white space, a missing separator ("v=STSv1id=...").
bool near_miss(std::string_view rec, std::string_view version) {
  if (!istarts_with(trim_wsp(rec), version) || starts_with_version(rec, version)) return false;
  // "v=STSv10" is another version of the record, not a mistake.
  bool other_version = rec.starts_with(version) && rec.size() > version.size() && is_digit(rec[version.size()]);
  return !other_version;
}

// An RFC 5321 label: Let-dig [Ldh-str], at most 63 characters.
std::optional<std::string> label_error(std::string_view label) {
  if (label.empty()) return std::string("an empty label");
  if (label.size() > 63) return fmt::format("a label of {} characters (the limit is 63)", label.size());
  for (char c : label) {
    if (static_cast<unsigned char>(c) >= 0x80) return std::string("a non-ASCII byte (write the A-label, xn--...)");
    if (c == '*') return std::string("a '*' that is not the whole leftmost label ('*.' in front is the only wildcard)");
    if (!is_alnum(c) && c != '-') return fmt::format("the character '{}'", quote(std::string_view(&c, 1)));
  }
  if (label.front() == '-' || label.back() == '-') return std::string("a label that starts or ends with '-'");
  return std::nullopt;
}

std::string_view strip_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view to_string(RecordStatus s) {
  switch (s) {
    case RecordStatus::valid: return "valid";
    case RecordStatus::invalid: return "invalid";
    case RecordStatus::absent: return "absent";
  }
  return "absent";
}

std::string_view to_string(Mode m) {
  switch (m) {
    case Mode::enforce: return "enforce";
    case Mode::testing: return "testing";
    case Mode::none: return "none";
  }
  return "none";
}

std::optional<Mode> parse_mode(std::string_view text) {
  if (text == "enforce") return Mode::enforce;
  if (text == "testing") return Mode::testing;
  if (text == "none") return Mode::none;
  return std::nullopt;
}

// ---- RFC 8461 §3.1

StsRecord parse_sts_txt(std::span<const std::string> txt) {
  constexpr std::string_view version = "v=STSv1";
  StsRecord out;
  Findings f(out.findings);
  std::vector<std::string_view> kept;
  for (const auto& rec : txt) {
    if (starts_with_version(rec, version)) {
      kept.push_back(rec);
    } else if (near_miss(rec, version)) {
      f.add("sts-record-near-miss",
            fmt::format("the TXT record '{}' is discarded: an MTA-STS record begins with exactly 'v=STSv1;'",
                        quote(rec)));
    }
  }
  if (kept.empty()) {
    f.add("sts-missing", "no TXT record beginning with v=STSv1 at _mta-sts: MTA-STS senders apply no policy");
    return out;
  }
  if (kept.size() > 1) {
    out.status = RecordStatus::invalid;
    f.add("sts-multiple-records",
          fmt::format("{} TXT records begin with v=STSv1; with more than one, senders ignore them all", kept.size()));
    return out;
  }
  std::string_view rec = kept.front();
  out.record = sanitize_peer_text(rec);
  auto split = split_record(rec, version);
  auto invalid = [&](std::string why) {
    out.status = RecordStatus::invalid;
    out.id.clear();
    f.add("sts-record-invalid", fmt::format("the MTA-STS record is malformed: {}", why));
    return out;
  };
  if (!split.error.empty()) return invalid(split.error);
  if (split.fields.empty()) return invalid("it has no id field");
  bool have_id = false;
  for (const auto& fl : split.fields) {
    if (!valid_field_name(fl.name)) return invalid(fmt::format("'{}' is not a field name", quote(fl.name)));
    if (fl.name == "id") {
      bool ok = !fl.value.empty() && fl.value.size() <= 32 && std::all_of(fl.value.begin(), fl.value.end(), is_alnum);
      if (!ok) return invalid(fmt::format("id '{}' is not 1 to 32 letters and digits", quote(fl.value)));
      if (have_id) {
        f.add("sts-duplicate-key", fmt::format("the record has a second id ('{}'); the first wins", quote(fl.value)));
        continue;
      }
      have_id = true;
      out.id = std::string(fl.value);
    } else if (!valid_ext_value(fl.value)) {
      return invalid(fmt::format("field '{}' has an empty or invalid value", quote(fl.name)));
    }
  }
  if (!have_id) return invalid("it has no id field (field names are case-sensitive)");
  out.status = RecordStatus::valid;
  return out;
}

// ---- RFC 8461 §3.2

StsPolicy parse_sts_policy(std::string_view body) {
  StsPolicy out;
  Findings f(out.findings);
  if (body.size() > max_policy_bytes) {
    f.add("sts-policy-too-large",
          fmt::format("the policy is larger than {} bytes; senders need not read it", max_policy_bytes));
    return out;
  }
  if (std::count(body.begin(), body.end(), '\n') > static_cast<std::ptrdiff_t>(max_policy_lines)) {
    f.add("sts-policy-too-large", fmt::format("the policy has more than {} lines", max_policy_lines));
    return out;
  }
  bool ok = true;
  bool have_version = false, have_max_age = false, mode_seen = false;
  std::size_t line_no = 0, pos = 0;
  // Keys that differ from a known one only in case: mentioned when that one is missing.
  std::map<std::string, std::string> case_misses;
  while (pos < body.size()) {
    auto nl = body.find('\n', pos);
    auto end = nl == std::string_view::npos ? body.size() : nl;
    std::string_view line = body.substr(pos, end - pos);
    pos = nl == std::string_view::npos ? body.size() : nl + 1;
    ++line_no;
    // sts-policy-term = LF / CRLF
    if (nl != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim_wsp(line).empty()) {
      f.add("sts-policy-blank-line", fmt::format("line {} is empty; the policy grammar has no empty lines", line_no));
      continue;
    }
    auto colon = line.find(':');
    std::string_view key = colon == std::string_view::npos ? line : line.substr(0, colon);
    if (colon == std::string_view::npos || !valid_field_name(key)) {
      ok = false;
      f.add("sts-policy-syntax",
            fmt::format("line {} ('{}') is not 'key: value' (the key is letters, digits, '_', '-', '.', directly "
                        "followed by ':')",
                        line_no, quote(line)));
      continue;
    }
    // field-delim = ":" *WSP, and white space may end the line.
    std::string_view value = trim_wsp(line.substr(colon + 1));
    bool value_ok = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
      auto u = static_cast<unsigned char>(c);
      return u == 0x20 || (u >= 0x21 && u <= 0x7e) || u >= 0x80;
    });
    if (!value_ok) {
      ok = false;
      f.add("sts-policy-syntax",
            fmt::format("line {}: the value of '{}' is empty or holds control characters", line_no, quote(key)));
      continue;
    }
    if (key == "version") {
      if (have_version) {
        f.add("sts-duplicate-key", fmt::format("line {}: a second 'version'; the first wins", line_no));
        continue;
      }
      have_version = true;
      if (value != "STSv1") {
        ok = false;
        f.add("sts-policy-version", fmt::format("line {}: version is '{}', not STSv1", line_no, quote(value)));
      }
    } else if (key == "mode") {
      if (mode_seen) {
        f.add("sts-duplicate-key", fmt::format("line {}: a second 'mode'; the first wins", line_no));
        continue;
      }
      mode_seen = true;
      out.mode = parse_mode(value);
      if (!out.mode) {
        ok = false;
        f.add("sts-policy-mode",
              fmt::format("line {}: mode is '{}', not enforce, testing or none (lower case)", line_no, quote(value)));
      }
    } else if (key == "max_age") {
      if (have_max_age) {
        f.add("sts-duplicate-key", fmt::format("line {}: a second 'max_age'; the first wins", line_no));
        continue;
      }
      have_max_age = true;
      // sts-policy-max-age-value = 1*10(DIGIT), at most 31557600.
      bool digits = value.size() <= 10 && std::all_of(value.begin(), value.end(), is_digit);
      std::uint64_t n = 0;
      if (digits)
        for (char c : value) n = n * 10 + static_cast<std::uint64_t>(c - '0');
      if (!digits || n > max_max_age) {
        ok = false;
        f.add("sts-max-age-range", fmt::format("line {}: max_age '{}' is not a whole number of seconds from 0 to {}",
                                               line_no, quote(value), max_max_age));
      } else {
        out.max_age = static_cast<std::uint32_t>(n);
      }
    } else if (key == "mx") {
      if (auto err = mx_pattern_error(value)) {
        ok = false;
        f.add("sts-mx-pattern-invalid",
              fmt::format("line {}: mx '{}' is not a valid pattern: {}", line_no, quote(value), *err));
      } else {
        out.mx.emplace_back(value);
      }
    } else {
      // RFC 8461 §3.2: unknown fields are ignored.
      for (std::string_view known : {"version", "mode", "max_age", "mx"})
        if (iequals(key, known)) case_misses.emplace(std::string(known), std::string(key));
    }
  }
  auto missing = [&](std::string_view code, std::string_view key) {
    ok = false;
    std::string hint;
    if (auto it = case_misses.find(std::string(key)); it != case_misses.end())
      hint = fmt::format(" (keys are case-sensitive: '{}' is not '{}')", quote(it->second), key);
    f.add(code, fmt::format("the policy has no '{}' line{}", key, hint));
  };
  if (!have_version) missing("sts-policy-version", "version");
  if (!mode_seen) missing("sts-policy-mode", "mode");
  if (!have_max_age) missing("sts-max-age-range", "max_age");
  if (out.mx.empty() && (!out.mode || *out.mode != Mode::none)) {
    // An mx line that was there but invalid has its own finding already.
    bool had_bad_mx = std::any_of(out.findings.begin(), out.findings.end(),
                                  [](const Finding& x) { return x.code == "sts-mx-pattern-invalid"; });
    if (!had_bad_mx) missing("sts-mx-missing", "mx");
    ok = false;
  }
  out.valid = ok;
  return out;
}

// ---- RFC 8461 §4.1

std::optional<std::string> mx_pattern_error(std::string_view pattern) {
  if (pattern.empty()) return std::string("it is empty");
  std::string_view name = strip_dot(pattern);
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty()) return std::string("it names no domain");
  if (name.size() > 253) return fmt::format("it is {} characters long (the limit is 253)", name.size());
  std::size_t start = 0;
  while (true) {
    auto dot = name.find('.', start);
    auto label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (auto err = label_error(label)) return fmt::format("it has {}", *err);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return std::nullopt;
}

bool mx_pattern_covers(std::string_view pattern, std::string_view host) {
  if (mx_pattern_error(pattern)) return false;
  pattern = strip_dot(pattern);
  host = strip_dot(host);
  if (host.empty()) return false;
  if (!pattern.starts_with("*.")) return iequals(pattern, host);
  // "*." matches exactly one whole leftmost label: the host is
  // <label>.<suffix> with a non-empty label that holds no dot.
  std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (host.size() <= suffix.size()) return false;
  auto head = host.substr(0, host.size() - suffix.size());
  return iequals(host.substr(head.size()), suffix) && head.find('.') == std::string_view::npos;
}

MxMatch match_mx(std::string_view host, std::span<const std::string> patterns) {
  MxMatch out;
  for (const auto& p : patterns) {
    if (mx_pattern_covers(p, host)) {
      out.covered = true;
      out.pattern = p;
      return out;
    }
  }
  Findings f(out.findings);
  std::string_view h = strip_dot(host);
  for (const auto& p : patterns) {
    std::string_view pat = strip_dot(p);
    if (!pat.starts_with("*.") || mx_pattern_error(p)) continue;
    auto base = pat.substr(2);
    if (iequals(h, base)) {
      f.add("sts-wildcard-depth",
            fmt::format("'{}' does not cover {} itself: '*.' stands for exactly one label", quote(p), quote(h)));
    } else if (h.size() > base.size() + 1 && iequals(h.substr(h.size() - base.size()), base) &&
               h[h.size() - base.size() - 1] == '.') {
      f.add("sts-wildcard-depth",
            fmt::format("'{}' does not cover {}: '*.' stands for exactly one label, not several", quote(p), quote(h)));
    }
  }
  return out;
}

// ---- RFC 8460 §3

TlsRptRecord parse_tlsrpt_txt(std::span<const std::string> txt) {
  constexpr std::string_view version = "v=TLSRPTv1";
  TlsRptRecord out;
  Findings f(out.findings);
  std::vector<std::string_view> kept;
  for (const auto& rec : txt) {
    if (starts_with_version(rec, version)) {
      kept.push_back(rec);
    } else if (near_miss(rec, version)) {
      f.add("tlsrpt-near-miss", fmt::format("the TXT record '{}' is discarded: a TLS-RPT record begins with exactly "
                                            "'v=TLSRPTv1;'",
                                            quote(rec)));
    }
  }
  if (kept.empty()) {
    f.add("tlsrpt-missing", "no TXT record beginning with v=TLSRPTv1 at _smtp._tls: senders send no TLS reports");
    return out;
  }
  if (kept.size() > 1) {
    out.status = RecordStatus::invalid;
    f.add(
        "tlsrpt-multiple-records",
        fmt::format("{} TXT records begin with v=TLSRPTv1; with more than one, senders ignore them all", kept.size()));
    return out;
  }
  std::string_view rec = kept.front();
  out.record = sanitize_peer_text(rec);
  auto invalid = [&](std::string why) {
    out.status = RecordStatus::invalid;
    out.rua.clear();
    f.add("tlsrpt-invalid", fmt::format("the TLS-RPT record is malformed: {}", why));
    return out;
  };
  // The rua list may hold white space around its commas, so the record is
  // cut at ';' here rather than by split_record().
  std::vector<std::string_view> fields;
  std::size_t i = version.size();
  std::string_view rest = rec.substr(i);
  rest = trim_wsp(rest);
  if (!rest.empty() && rest.front() != ';') return invalid(fmt::format("expected ';' before '{}'", quote(rest)));
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the ';'
    auto semi = rest.find(';');
    auto field = trim_wsp(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi);
    if (field.empty()) {
      if (rest.empty()) break;  // the optional trailing separator
      return invalid("an empty field between two ';'");
    }
    fields.push_back(field);
  }
  bool have_rua = false;
  for (auto field : fields) {
    auto eq = field.find('=');
    if (eq == std::string_view::npos) return invalid(fmt::format("field '{}' has no '='", quote(field)));
    auto name = field.substr(0, eq), value = field.substr(eq + 1);
    if (!valid_field_name(name)) return invalid(fmt::format("'{}' is not a field name", quote(name)));
    if (name != "rua") {
      if (!valid_ext_value(value)) return invalid(fmt::format("field '{}' has an empty or invalid value", quote(name)));
      continue;
    }
    if (have_rua) {
      f.add("tlsrpt-duplicate-field", "the record has a second rua field; the first wins");
      continue;
    }
    have_rua = true;
    std::size_t start = 0;
    while (true) {
      auto comma = value.find(',', start);
      auto uri =
          trim_wsp(value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (uri.empty()) return invalid("rua holds an empty URI");
      // RFC 3986 URI characters; RFC 8460 §3: ',' and '!' MUST be encoded.
      for (char c : uri) {
        if (c == '!')
          return invalid(
              fmt::format("rua URI '{}' holds '!', which must be written %21 (TLS-RPT has no size limit "
                          "suffix)",
                          quote(uri)));
        static constexpr std::string_view uri_chars = "-._~:/?#[]@$&'()*+=%";
        if (!is_alnum(c) && uri_chars.find(c) == std::string_view::npos)
          return invalid(fmt::format("rua URI '{}' holds a character a URI cannot hold", quote(uri)));
      }
      auto colon = uri.find(':');
      if (colon == std::string_view::npos || colon == 0 || !is_alpha(uri.front()))
        return invalid(fmt::format("rua entry '{}' is not a URI (no scheme)", quote(uri)));
      auto scheme = uri.substr(0, colon), target = uri.substr(colon + 1);
      if (iequals(scheme, "mailto")) {
        auto at = target.find('@');
        if (at == std::string_view::npos || at == 0 || at + 1 == target.size())
          return invalid(fmt::format("rua URI '{}' names no mailbox (mailto:user@domain)", quote(uri)));
        out.rua.emplace_back(uri);
      } else if (iequals(scheme, "https")) {
        if (!target.starts_with("//") || target.size() == 2 || target[2] == '/')
          return invalid(fmt::format("rua URI '{}' names no host (https://host/path)", quote(uri)));
        out.rua.emplace_back(uri);
      } else {
        f.add("tlsrpt-rua-unsupported",
              fmt::format("rua URI '{}' is skipped: reports go to mailto: and https: URIs only", quote(uri)));
      }
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  if (!have_rua) return invalid("it has no rua field (field names are case-sensitive)");
  if (out.rua.empty()) return invalid("rua holds no mailto: or https: URI");
  out.status = RecordStatus::valid;
  return out;
}

// ---- Publishing

std::string policy_body(const PolicySpec& spec) {
  std::string out = fmt::format("version: STSv1\r\nmode: {}\r\n", to_string(spec.mode));
  for (const auto& p : spec.mx) {
    std::string norm(strip_dot(p));
    std::transform(norm.begin(), norm.end(), norm.begin(), lower);
    out += fmt::format("mx: {}\r\n", norm);
  }
  out += fmt::format("max_age: {}\r\n", spec.max_age);
  return out;
}

std::string policy_id(std::string_view body) {
  std::vector<std::uint8_t> bytes(body.begin(), body.end());
  return to_hex(tlsa_digest(mtype::sha256, bytes)).substr(0, 32);
}

std::string sts_txt_value(std::string_view id) { return fmt::format("v=STSv1; id={}", id); }

}  // namespace danekit::sts
