// MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) cores as tables: the TXT records,
// the policy body, the MX matcher (with the mistakes other tools make), and
// the generated policy and id. Each row: the input, the expected status and
// the finding codes, in order.
#include <gtest/gtest.h>

#include <set>

#include "danekit/mta_sts.h"
#include "policy/reason_catalog.h"

namespace danekit::sts {
namespace {

using Codes = std::vector<std::string>;

Codes codes_of(const std::vector<Finding>& f) {
  Codes out;
  for (const auto& x : f) out.push_back(x.code);
  return out;
}

// Every finding has a catalogued code and one printable line of text.
void note(const std::vector<Finding>& f) {
  for (const auto& x : f) {
    const auto* r = find_reason(x.code);
    EXPECT_TRUE(r != nullptr && r->group == "mta-sts") << x.code << " is not in the catalog's mta-sts group";
    EXPECT_FALSE(x.text.empty()) << x.code;
    for (char c : x.text) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << x.code << ": " << x.text;
  }
}

// ---- RFC 8461 §3.1: the _mta-sts TXT record

struct TxtCase {
  std::string name;
  std::vector<std::string> txt;
  RecordStatus status;
  std::string id;
  Codes codes;
};

std::vector<TxtCase> txt_cases() {
  const auto V = RecordStatus::valid, I = RecordStatus::invalid, A = RecordStatus::absent;
  return {
      {"plain", {"v=STSv1; id=20160831085700Z"}, V, "20160831085700Z", {}},
      {"no space", {"v=STSv1;id=abc123"}, V, "abc123", {}},
      {"trailing separator", {"v=STSv1; id=abc;"}, V, "abc", {}},
      {"trailing separator and space", {"v=STSv1; id=abc ; "}, V, "abc", {}},
      {"space before ;", {"v=STSv1 ; id=abc"}, V, "abc", {}},
      {"tabs", {"v=STSv1;\tid=abc\t;"}, V, "abc", {}},
      {"id of 32", {"v=STSv1; id=" + std::string(32, 'a')}, V, std::string(32, 'a'), {}},
      {"unknown field ignored", {"v=STSv1; foo=bar; id=x1"}, V, "x1", {}},
      {"extension with dots", {"v=STSv1; id=x1; ext.name-1_a=v:al/ue"}, V, "x1", {}},
      {"others discarded", {"google-site-verification=abc", "v=spf1 -all", "v=STSv1; id=a"}, V, "a", {}},
      {"second id: first wins", {"v=STSv1; id=a; id=b"}, V, "a", {"sts-duplicate-key"}},
      // absent
      {"no records", {}, A, "", {"sts-missing"}},
      {"only other records", {"v=spf1 -all"}, A, "", {"sts-missing"}},
      {"other version", {"v=STSv10; id=abc"}, A, "", {"sts-missing"}},
      {"wrong case is discarded", {"v=stsv1; id=abc"}, A, "", {"sts-record-near-miss", "sts-missing"}},
      {"leading space is discarded", {" v=STSv1; id=abc"}, A, "", {"sts-record-near-miss", "sts-missing"}},
      {"glued field is discarded", {"v=STSv1id=abc"}, A, "", {"sts-record-near-miss", "sts-missing"}},
      // invalid
      {"two records", {"v=STSv1; id=a", "v=STSv1; id=b"}, I, "", {"sts-multiple-records"}},
      {"two identical records", {"v=STSv1; id=a", "v=STSv1; id=a"}, I, "", {"sts-multiple-records"}},
      {"version only", {"v=STSv1"}, I, "", {"sts-record-invalid"}},
      {"version and separator only", {"v=STSv1;"}, I, "", {"sts-record-invalid"}},
      {"no id", {"v=STSv1; foo=bar"}, I, "", {"sts-record-invalid"}},
      {"ID is not id", {"v=STSv1; ID=abc"}, I, "", {"sts-record-invalid"}},
      {"empty id", {"v=STSv1; id="}, I, "", {"sts-record-invalid"}},
      {"id of 33", {"v=STSv1; id=" + std::string(33, 'a')}, I, "", {"sts-record-invalid"}},
      {"id with hyphen", {"v=STSv1; id=2024-01-01"}, I, "", {"sts-record-invalid"}},
      {"id with dot", {"v=STSv1; id=1.2"}, I, "", {"sts-record-invalid"}},
      {"space in id", {"v=STSv1; id=ab cd"}, I, "", {"sts-record-invalid"}},
      {"missing ;", {"v=STSv1 id=abc"}, I, "", {"sts-record-invalid"}},
      {"empty field", {"v=STSv1;; id=abc"}, I, "", {"sts-record-invalid"}},
      {"field without =", {"v=STSv1; id=abc; flag"}, I, "", {"sts-record-invalid"}},
      {"empty extension value", {"v=STSv1; id=abc; foo="}, I, "", {"sts-record-invalid"}},
      {"= in extension value", {"v=STSv1; id=abc; foo=a=b"}, I, "", {"sts-record-invalid"}},
      {"bad field name", {"v=STSv1; id=abc; -x=1"}, I, "", {"sts-record-invalid"}},
      {"control byte", {std::string("v=STSv1; id=abc; x=\x01", 21)}, I, "", {"sts-record-invalid"}},
      {"non-ASCII id", {"v=STSv1; id=ab\xc3\xa9"}, I, "", {"sts-record-invalid"}},
      {"bad id in second of two", {"v=STSv1; id=a; id=b-c"}, I, "", {"sts-record-invalid"}},
  };
}

TEST(StsTxt, Table) {
  for (const auto& c : txt_cases()) {
    auto r = parse_sts_txt(c.txt);
    note(r.findings);
    EXPECT_EQ(r.status, c.status) << c.name;
    EXPECT_EQ(r.id, c.id) << c.name;
    EXPECT_EQ(codes_of(r.findings), c.codes) << c.name;
  }
}

// ---- RFC 8461 §3.2: the policy body

struct PolicyCase {
  std::string name;
  std::string body;
  bool valid;
  std::optional<Mode> mode;
  std::optional<std::uint32_t> max_age;
  std::vector<std::string> mx;
  Codes codes;
};

std::vector<PolicyCase> policy_cases() {
  const auto E = Mode::enforce, T = Mode::testing, N = Mode::none;
  return {
      {"RFC example, CRLF",
       "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\n"
       "max_age: 604800\r\n",
       true,
       E,
       604800,
       {"mail.example.com", "*.example.net", "backupmx.example.com"},
       {}},
      {"LF",
       "version: STSv1\nmode: testing\nmx: mx.example.org\nmax_age: 86400\n",
       true,
       T,
       86400,
       {"mx.example.org"},
       {}},
      {"mixed line ends",
       "version: STSv1\r\nmode: enforce\nmx: mx.example.org\r\nmax_age: 86400\n",
       true,
       E,
       86400,
       {"mx.example.org"},
       {}},
      {"last line unterminated",
       "version: STSv1\nmode: enforce\nmx: mx.example.org\nmax_age: 86400",
       true,
       E,
       86400,
       {"mx.example.org"},
       {}},
      {"any order", "max_age: 1\nmx: a.example\nmode: enforce\nversion: STSv1\n", true, E, 1, {"a.example"}, {}},
      {"no space after colon", "version:STSv1\nmode:enforce\nmx:a.example\nmax_age:1\n", true, E, 1, {"a.example"}, {}},
      {"spaces and tabs after colon and at the end",
       "version:  STSv1 \nmode:\tenforce\t\nmx:   a.example  \r\nmax_age: 5 \n",
       true,
       E,
       5,
       {"a.example"},
       {}},
      {"mode none needs no mx", "version: STSv1\nmode: none\nmax_age: 0\n", true, N, 0, {}, {}},
      {"mode none may keep mx",
       "version: STSv1\nmode: none\nmx: a.example\nmax_age: 0\n",
       true,
       N,
       0,
       {"a.example"},
       {}},
      {"max_age upper bound",
       "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557600\n",
       true,
       E,
       31557600,
       {"a.example"},
       {}},
      {"max_age leading zeros (10 digits)",
       "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 0000086400\n",
       true,
       E,
       86400,
       {"a.example"},
       {}},
      {"unknown keys ignored",
       "version: STSv1\nmode: enforce\nfoo: bar baz\nx-y.z_1: \xc3\xa9t\xc3\xa9\nmx: a.example\nmax_age: 1\n",
       true,
       E,
       1,
       {"a.example"},
       {}},
      {"duplicate mode: first wins",
       "version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 1\n",
       true,
       T,
       1,
       {"a.example"},
       {"sts-duplicate-key"}},
      {"duplicate max_age: first wins",
       "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 10\nmax_age: 20\n",
       true,
       E,
       10,
       {"a.example"},
       {"sts-duplicate-key"}},
      {"duplicate version: first wins (the second is bad)",
       "version: STSv1\nversion: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",
       true,
       E,
       1,
       {"a.example"},
       {"sts-duplicate-key"}},
      {"duplicate mode: first wins even when bad",
       "version: STSv1\nmode: strict\nmode: enforce\nmx: a.example\nmax_age: 1\n",
       false,
       std::nullopt,
       1,
       {"a.example"},
       {"sts-policy-mode", "sts-duplicate-key"}},
      {"blank line skipped with a warning",
       "version: STSv1\n\nmode: enforce\nmx: a.example\nmax_age: 1\n",
       true,
       E,
       1,
       {"a.example"},
       {"sts-policy-blank-line"}},
      {"trailing blank line",
       "version: STSv1\r\nmode: enforce\r\nmx: a.example\r\nmax_age: 1\r\n\r\n",
       true,
       E,
       1,
       {"a.example"},
       {"sts-policy-blank-line"}},
      // invalid
      {"empty body",
       "",
       false,
       std::nullopt,
       std::nullopt,
       {},
       {"sts-policy-version", "sts-policy-mode", "sts-max-age-range", "sts-mx-missing"}},
      {"version STSv2",
       "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",
       false,
       E,
       1,
       {"a.example"},
       {"sts-policy-version"}},
      {"version lower case",
       "version: stsv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
       false,
       E,
       1,
       {"a.example"},
       {"sts-policy-version"}},
      {"no version", "mode: enforce\nmx: a.example\nmax_age: 1\n", false, E, 1, {"a.example"}, {"sts-policy-version"}},
      {"Version is not version",
       "Version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
       false,
       E,
       1,
       {"a.example"},
       {"sts-policy-version"}},
      {"mode Enforce",
       "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n",
       false,
       std::nullopt,
       1,
       {"a.example"},
       {"sts-policy-mode"}},
      {"mode unknown",
       "version: STSv1\nmode: reject\nmx: a.example\nmax_age: 1\n",
       false,
       std::nullopt,
       1,
       {"a.example"},
       {"sts-policy-mode"}},
      {"no mode",
       "version: STSv1\nmx: a.example\nmax_age: 1\n",
       false,
       std::nullopt,
       1,
       {"a.example"},
       {"sts-policy-mode"}},
      {"max_age too large",
       "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n",
       false,
       E,
       std::nullopt,
       {"a.example"},
       {"sts-max-age-range"}},
      {"max_age 11 digits",
       "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 00000086400\n",
       false,
       E,
       std::nullopt,
       {"a.example"},
       {"sts-max-age-range"}},
      {"max_age negative",
       "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n",
       false,
       E,
       std::nullopt,
       {"a.example"},
       {"sts-max-age-range"}},
      {"max_age with unit",
       "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1d\n",
       false,
       E,
       std::nullopt,
       {"a.example"},
       {"sts-max-age-range"}},
      {"max_age huge",
       "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 99999999999999999999\n",
       false,
       E,
       std::nullopt,
       {"a.example"},
       {"sts-max-age-range"}},
      {"no max_age",
       "version: STSv1\nmode: enforce\nmx: a.example\n",
       false,
       E,
       std::nullopt,
       {"a.example"},
       {"sts-max-age-range"}},
      {"enforce without mx", "version: STSv1\nmode: enforce\nmax_age: 1\n", false, E, 1, {}, {"sts-mx-missing"}},
      {"testing without mx", "version: STSv1\nmode: testing\nmax_age: 1\n", false, T, 1, {}, {"sts-mx-missing"}},
      {"MX is not mx",
       "version: STSv1\nmode: enforce\nMX: a.example\nmax_age: 1\n",
       false,
       E,
       1,
       {},
       {"sts-mx-missing"}},
      {"mx with a * inside",
       "version: STSv1\nmode: enforce\nmx: mail*.example.com\nmax_age: 1\n",
       false,
       E,
       1,
       {},
       {"sts-mx-pattern-invalid"}},
      {"mx with a deeper *",
       "version: STSv1\nmode: enforce\nmx: a.example\nmx: mail.*.example.com\nmax_age: 1\n",
       false,
       E,
       1,
       {"a.example"},
       {"sts-mx-pattern-invalid"}},
      {"mx with two *",
       "version: STSv1\nmode: enforce\nmx: *.*.example.com\nmax_age: 1\n",
       false,
       E,
       1,
       {},
       {"sts-mx-pattern-invalid"}},
      {"space before the colon",
       "version : STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
       false,
       E,
       1,
       {"a.example"},
       {"sts-policy-syntax", "sts-policy-version"}},
      {"a line without colon",
       "version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1\n",
       false,
       std::nullopt,
       1,
       {"a.example"},
       {"sts-policy-syntax", "sts-policy-mode"}},
      {"leading white space",
       "version: STSv1\n mode: enforce\nmx: a.example\nmax_age: 1\n",
       false,
       std::nullopt,
       1,
       {"a.example"},
       {"sts-policy-syntax", "sts-policy-mode"}},
      {"empty value",
       "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nfoo:\n",
       false,
       E,
       1,
       {"a.example"},
       {"sts-policy-syntax"}},
      {"bare CR inside a line",
       "version: STSv1\nmode: enforce\rmx: a.example\nmax_age: 1\n",
       false,
       std::nullopt,
       1,
       {},
       {"sts-policy-syntax", "sts-policy-mode", "sts-mx-missing"}},
      {"NUL byte",
       std::string("version: STSv1\nmode: enforce\nmx: a.example") + '\0' + "\nmax_age: 1\n",
       false,
       E,
       1,
       {},
       {"sts-policy-syntax", "sts-mx-missing"}},
      {"HTML error page",
       "<html><body>404 Not Found</body></html>\n",
       false,
       std::nullopt,
       std::nullopt,
       {},
       {"sts-policy-syntax", "sts-policy-version", "sts-policy-mode", "sts-max-age-range", "sts-mx-missing"}},
  };
}

TEST(StsPolicy, Table) {
  for (const auto& c : policy_cases()) {
    auto p = parse_sts_policy(c.body);
    note(p.findings);
    EXPECT_EQ(p.valid, c.valid) << c.name;
    EXPECT_EQ(p.mode, c.mode) << c.name;
    EXPECT_EQ(p.max_age, c.max_age) << c.name;
    EXPECT_EQ(p.mx, c.mx) << c.name;
    EXPECT_EQ(codes_of(p.findings), c.codes) << c.name;
  }
}

TEST(StsPolicy, LimitsOnHostileBodies) {
  std::string ok = "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n";
  // Just under 64 KiB of unknown keys parses; one byte over is rejected unread.
  std::string filler;
  while (ok.size() + filler.size() + 100 < max_policy_bytes) filler += "x: " + std::string(96, 'y') + "\n";
  std::string big = ok + filler;
  big += "p: " + std::string(max_policy_bytes - big.size() - 3, 'q');  // exactly 64 KiB, last line open
  ASSERT_EQ(big.size(), max_policy_bytes);
  auto p = parse_sts_policy(big);
  note(p.findings);
  EXPECT_TRUE(p.valid) << (p.findings.empty() ? "" : p.findings.front().text);
  big += "z";
  p = parse_sts_policy(big);
  note(p.findings);
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(codes_of(p.findings), Codes{"sts-policy-too-large"});

  // More lines than the bound, though small.
  std::string lines = ok + std::string(max_policy_lines, '\n');
  p = parse_sts_policy(lines);
  EXPECT_EQ(codes_of(p.findings), Codes{"sts-policy-too-large"});

  // A thousand bad lines give a short list, its last entry saying so.
  std::string bad = ok;
  for (int i = 0; i < 1000; ++i) bad += "not a field\n";
  p = parse_sts_policy(bad);
  note(p.findings);
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(p.findings.size(), max_findings_per_code);
  EXPECT_NE(p.findings.back().text.find("not listed"), std::string::npos);

  // Control bytes and long lines quoted in a finding come out printable and short.
  std::string esc = ok + "\x1b[31m" + std::string(5000, 'A') + "\n";
  p = parse_sts_policy(esc);
  note(p.findings);
  ASSERT_EQ(p.findings.size(), 1u);
  EXPECT_LT(p.findings[0].text.size(), 300u);
}

// ---- RFC 8461 §4.1: MX patterns

struct PatternCase {
  std::string pattern;
  bool valid;
};

TEST(StsMxPattern, Validity) {
  const std::vector<PatternCase> cases = {
      {"mail.example.com", true},
      {"*.example.com", true},
      {"MAIL.Example.COM", true},
      {"mail.example.com.", true},
      {"*.example.com.", true},
      {"localhost", true},
      {"*.com", true},
      {"xn--bcher-kva.example", true},
      {"a-b.example", true},
      {"1mail.example", true},
      {std::string(63, 'a') + ".example", true},
      {"", false},
      {"*", false},
      {"*.", false},
      {".", false},
      {"mail*.example.com", false},
      {"mail.*.example.com", false},
      {"*.*.example.com", false},
      {"*example.com", false},
      {"example.*", false},
      {"**.example.com", false},
      {".example.com", false},
      {"mail..example.com", false},
      {"mail.example.com..", false},
      {"-mail.example.com", false},
      {"mail-.example.com", false},
      {"mail_1.example.com", false},
      {"mail example.com", false},
      {"b\xc3\xbc"
       "cher.example",
       false},
      {std::string(64, 'a') + ".example", false},
      {std::string(250, 'a').replace(63, 1, ".").replace(127, 1, ".").replace(191, 1, ".") + ".example", false},
  };
  for (const auto& c : cases) {
    auto err = mx_pattern_error(c.pattern);
    EXPECT_EQ(!err.has_value(), c.valid) << "'" << c.pattern << "': " << err.value_or("valid");
    if (!c.valid) {
      EXPECT_FALSE(mx_pattern_covers(c.pattern, c.pattern)) << c.pattern;
    }
  }
}

struct MatchCase {
  std::string pattern, host;
  bool covered;
  std::string why;
};

TEST(StsMxPattern, Covers) {
  const std::vector<MatchCase> cases = {
      {"mail.example.com", "mail.example.com", true, "exact"},
      {"mail.example.com", "MAIL.EXAMPLE.COM", true, "case-insensitive"},
      {"MAIL.example.com", "mail.Example.com", true, "case-insensitive both ways"},
      {"mail.example.com", "mail.example.com.", true, "trailing dot on the host"},
      {"mail.example.com.", "mail.example.com", true, "trailing dot on the pattern"},
      {"*.example.com", "mail.example.com", true, "one label"},
      {"*.example.com", "MX1.EXAMPLE.COM.", true, "one label, case and dot"},
      {"*.example.com.", "a.example.com", true, "wildcard with trailing dot"},
      {"*.example.com", "x-1.example.com", true, "one label with hyphen"},
      // checkdmarc builds an unanchored regex from the patterns:
      {"*.example.com", "foo.bar.example.com", false, "checkdmarc: a wildcard spans one label only"},
      {"mail.example.com", "mail.example.com.evil.net", false, "checkdmarc: anchored at the end"},
      {"mail.example.com", "evilmail.example.com", false, "anchored at the start"},
      {"mail.example.com", "x.mail.example.com", false, "anchored at the start, by label"},
      {"*.example.com", "mail.example.com.evil.net", false, "wildcard anchored at the end"},
      {"*.example.com", "mailexample.com", false, "the dot belongs to the suffix"},
      {"*.example.com", "mail.notexample.com", false, "whole labels"},
      // postfix-mta-sts-resolver strips the '*' (".example.com" as a suffix):
      {"*.example.com", "example.com", false, "mta-sts-resolver: the wildcard needs a label"},
      {"*.example.com", ".example.com", false, "an empty label is no label"},
      {"*.example.com", "a..example.com", false, "no empty labels"},
      {"example.com", "mail.example.com", false, "no implicit subdomains"},
      {"mail.example.com", "mail.example.co", false, "whole name"},
      {"mail.example.com", "", false, "empty host"},
      {"*.example.com", "*.example.com", true, "a literal '*' label is one label (hosts never have it)"},
      {"mail*.example.com", "mail1.example.com", false, "invalid pattern covers nothing"},
      {"mail.*.example.com", "mail.x.example.com", false, "invalid pattern covers nothing"},
      {"*.*.example.com", "a.b.example.com", false, "invalid pattern covers nothing"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(mx_pattern_covers(c.pattern, c.host), c.covered) << c.why << ": " << c.pattern << " vs " << c.host;
}

TEST(StsMxPattern, MatchMxNamesThePatternAndWildcardDepth) {
  std::vector<std::string> patterns = {"mail.example.com", "*.example.net", "*.example.org"};
  auto m = match_mx("MX2.example.net.", patterns);
  EXPECT_TRUE(m.covered);
  EXPECT_EQ(m.pattern, "*.example.net");
  EXPECT_TRUE(m.findings.empty());

  m = match_mx("mail.example.com", patterns);
  EXPECT_TRUE(m.covered);
  EXPECT_EQ(m.pattern, "mail.example.com");

  m = match_mx("a.b.example.net", patterns);
  note(m.findings);
  EXPECT_FALSE(m.covered);
  EXPECT_EQ(m.pattern, "");
  EXPECT_EQ(codes_of(m.findings), Codes{"sts-wildcard-depth"});

  m = match_mx("example.org", patterns);
  note(m.findings);
  EXPECT_FALSE(m.covered);
  EXPECT_EQ(codes_of(m.findings), Codes{"sts-wildcard-depth"});

  m = match_mx("mail.example.com.evil.net", patterns);
  EXPECT_FALSE(m.covered);
  EXPECT_TRUE(m.findings.empty());

  m = match_mx("notexample.net", patterns);
  EXPECT_FALSE(m.covered);
  EXPECT_TRUE(m.findings.empty()) << "a suffix that is not whole labels is no near miss";

  EXPECT_FALSE(match_mx("mail.example.com", {}).covered);
}

// ---- RFC 8460 §3: the _smtp._tls TXT record

struct RptCase {
  std::string name;
  std::vector<std::string> txt;
  RecordStatus status;
  std::vector<std::string> rua;
  Codes codes;
};

std::vector<RptCase> rpt_cases() {
  const auto V = RecordStatus::valid, I = RecordStatus::invalid, A = RecordStatus::absent;
  return {
      {"mailto", {"v=TLSRPTv1; rua=mailto:reports@example.com"}, V, {"mailto:reports@example.com"}, {}},
      {"https",
       {"v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt"},
       V,
       {"https://reporting.example.com/v1/tlsrpt"},
       {}},
      {"two URIs",
       {"v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.com/x"},
       V,
       {"mailto:a@example.com", "https://r.example.com/x"},
       {}},
      {"spaces around comma",
       {"v=TLSRPTv1;rua=mailto:a@example.com , mailto:b@example.com ;"},
       V,
       {"mailto:a@example.com", "mailto:b@example.com"},
       {}},
      {"scheme case-insensitive", {"v=TLSRPTv1; rua=MAILTO:a@example.com"}, V, {"MAILTO:a@example.com"}, {}},
      {"percent-encoded !", {"v=TLSRPTv1; rua=mailto:a%21b@example.com"}, V, {"mailto:a%21b@example.com"}, {}},
      {"extension ignored", {"v=TLSRPTv1; foo=bar; rua=mailto:a@example.com"}, V, {"mailto:a@example.com"}, {}},
      {"others discarded", {"v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@example.com"}, V, {"mailto:a@example.com"}, {}},
      {"unsupported scheme skipped",
       {"v=TLSRPTv1; rua=ftp://x.example/r,mailto:a@example.com"},
       V,
       {"mailto:a@example.com"},
       {"tlsrpt-rua-unsupported"}},
      {"second rua: first wins",
       {"v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com"},
       V,
       {"mailto:a@example.com"},
       {"tlsrpt-duplicate-field"}},
      // absent
      {"none", {}, A, {}, {"tlsrpt-missing"}},
      {"other records only", {"v=STSv1; id=1"}, A, {}, {"tlsrpt-missing"}},
      {"wrong case", {"v=tlsrptv1; rua=mailto:a@example.com"}, A, {}, {"tlsrpt-near-miss", "tlsrpt-missing"}},
      {"other version", {"v=TLSRPTv10; rua=mailto:a@example.com"}, A, {}, {"tlsrpt-missing"}},
      // invalid
      {"two records",
       {"v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com"},
       I,
       {},
       {"tlsrpt-multiple-records"}},
      {"no rua", {"v=TLSRPTv1"}, I, {}, {"tlsrpt-invalid"}},
      {"no rua, separator", {"v=TLSRPTv1;"}, I, {}, {"tlsrpt-invalid"}},
      {"RUA is not rua", {"v=TLSRPTv1; RUA=mailto:a@example.com"}, I, {}, {"tlsrpt-invalid"}},
      {"only unsupported",
       {"v=TLSRPTv1; rua=http://r.example.com/x"},
       I,
       {},
       {"tlsrpt-rua-unsupported", "tlsrpt-invalid"}},
      {"DMARC size suffix", {"v=TLSRPTv1; rua=mailto:a@example.com!10m"}, I, {}, {"tlsrpt-invalid"}},
      {"empty rua", {"v=TLSRPTv1; rua="}, I, {}, {"tlsrpt-invalid"}},
      {"empty URI in list", {"v=TLSRPTv1; rua=mailto:a@example.com,,mailto:b@example.com"}, I, {}, {"tlsrpt-invalid"}},
      {"trailing comma", {"v=TLSRPTv1; rua=mailto:a@example.com,"}, I, {}, {"tlsrpt-invalid"}},
      {"no scheme", {"v=TLSRPTv1; rua=a@example.com"}, I, {}, {"tlsrpt-invalid"}},
      {"mailto without mailbox", {"v=TLSRPTv1; rua=mailto:"}, I, {}, {"tlsrpt-invalid"}},
      {"mailto without domain", {"v=TLSRPTv1; rua=mailto:reports@"}, I, {}, {"tlsrpt-invalid"}},
      {"https without host", {"v=TLSRPTv1; rua=https:/path"}, I, {}, {"tlsrpt-invalid"}},
      {"space inside list", {"v=TLSRPTv1; rua=mailto:a@example.com mailto:b@example.com"}, I, {}, {"tlsrpt-invalid"}},
      {"missing ;", {"v=TLSRPTv1 rua=mailto:a@example.com"}, I, {}, {"tlsrpt-invalid"}},
      {"empty field", {"v=TLSRPTv1;; rua=mailto:a@example.com"}, I, {}, {"tlsrpt-invalid"}},
      {"field without =", {"v=TLSRPTv1; rua=mailto:a@example.com; x"}, I, {}, {"tlsrpt-invalid"}},
      {"non-ASCII", {"v=TLSRPTv1; rua=mailto:\xc3\xa9@example.com"}, I, {}, {"tlsrpt-invalid"}},
  };
}

TEST(TlsRptTxt, Table) {
  for (const auto& c : rpt_cases()) {
    auto r = parse_tlsrpt_txt(c.txt);
    note(r.findings);
    EXPECT_EQ(r.status, c.status) << c.name;
    EXPECT_EQ(r.rua, c.rua) << c.name;
    EXPECT_EQ(codes_of(r.findings), c.codes) << c.name;
  }
}

// ---- Publishing

TEST(StsGenerate, BodyIdAndRoundTrip) {
  PolicySpec spec{Mode::enforce, 604800, {"Mail.Example.com.", "*.example.net"}};
  auto body = policy_body(spec);
  EXPECT_EQ(body,
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n");
  auto p = parse_sts_policy(body);
  EXPECT_TRUE(p.valid);
  EXPECT_TRUE(p.findings.empty());
  EXPECT_EQ(p.mode, Mode::enforce);
  EXPECT_EQ(p.max_age, 604800u);
  EXPECT_EQ(p.mx, (std::vector<std::string>{"mail.example.com", "*.example.net"}));

  auto id = policy_id(body);
  EXPECT_EQ(id.size(), 32u);
  // The id is the first 32 hex digits of SHA2-256 of the body (checked against sha256sum).
  EXPECT_EQ(policy_id("abc"), "ba7816bf8f01cfea414140de5dae2223");
  EXPECT_EQ(policy_id(body), id) << "same body, same id";
  spec.max_age = 604801;
  EXPECT_NE(policy_id(policy_body(spec)), id) << "another body, another id";
  auto rec = parse_sts_txt(std::vector<std::string>{sts_txt_value(id)});
  EXPECT_EQ(rec.status, RecordStatus::valid);
  EXPECT_EQ(rec.id, id);

  PolicySpec none{Mode::none, 0, {}};
  EXPECT_EQ(policy_body(none), "version: STSv1\r\nmode: none\r\nmax_age: 0\r\n");
  EXPECT_TRUE(parse_sts_policy(policy_body(none)).valid);
}

// The tables reach every code the parsers and the matcher can emit (the list
// in danekit/mta_sts.h), and each is catalogued.
TEST(StsCatalog, TheTablesReachEveryParserCode) {
  std::set<std::string> seen;
  for (const auto& c : txt_cases()) seen.insert(c.codes.begin(), c.codes.end());
  for (const auto& c : policy_cases()) seen.insert(c.codes.begin(), c.codes.end());
  for (const auto& c : rpt_cases()) seen.insert(c.codes.begin(), c.codes.end());
  seen.insert({"sts-policy-too-large", "sts-wildcard-depth"});  // LimitsOnHostileBodies, MatchMx...
  const std::set<std::string> parser_codes = {"sts-missing",
                                              "sts-multiple-records",
                                              "sts-record-invalid",
                                              "sts-record-near-miss",
                                              "sts-duplicate-key",
                                              "sts-policy-too-large",
                                              "sts-policy-syntax",
                                              "sts-policy-blank-line",
                                              "sts-policy-version",
                                              "sts-policy-mode",
                                              "sts-max-age-range",
                                              "sts-mx-missing",
                                              "sts-mx-pattern-invalid",
                                              "sts-wildcard-depth",
                                              "tlsrpt-missing",
                                              "tlsrpt-multiple-records",
                                              "tlsrpt-invalid",
                                              "tlsrpt-rua-unsupported",
                                              "tlsrpt-near-miss",
                                              "tlsrpt-duplicate-field"};
  EXPECT_EQ(seen, parser_codes);
  for (const auto& code : parser_codes) {
    const auto* r = find_reason(code);
    ASSERT_NE(r, nullptr) << code;
    EXPECT_EQ(r->group, "mta-sts") << code;
  }
  ASSERT_NE(find_reason("sts-mx-not-covered"), nullptr) << "mta-sts generate --current-mx emits it";
}

}  // namespace
}  // namespace danekit::sts
