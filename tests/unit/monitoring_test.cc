// The monitoring writers (danekit/monitoring.h) as tables: the plugin status of
// every verdict, which certificate dates matter, the status line with its
// thresholds and performance data, and the Prometheus text byte for byte.
#include "danekit/monitoring.h"

#include <gtest/gtest.h>

namespace danekit {
namespace {

constexpr std::int64_t now = 1795000000;  // pinned
constexpr std::int64_t day = 86400;

CertInfo cert(std::int64_t not_after) {
  CertInfo c;
  c.not_after = not_after;
  return c;
}

TlsaRecord record(std::uint8_t usage) {
  TlsaRecord t;
  t.usage = usage;
  t.selector = 1;
  t.mtype = 1;
  return t;
}

ProbeResult address(std::string addr, Outcome outcome, std::optional<std::uint8_t> usage, int depth,
                    std::vector<std::int64_t> not_after) {
  ProbeResult p;
  p.address = std::move(addr);
  p.outcome = outcome;
  if (usage) p.matched = record(*usage);
  p.match_depth = depth;
  for (auto t : not_after) p.chain.push_back(cert(t));
  return p;
}

CheckReport report(Verdict v, bool determined = true) {
  CheckReport r;
  r.domain = "example.org";
  r.verdict = v;
  r.determined = determined;
  r.delivery = v == Verdict::valid ? Delivery::authenticated : Delivery::deferred;
  r.checked_at = now;
  r.elapsed_ms = 1250;
  return r;
}

Reason reason(std::string code, Severity s = Severity::error, std::string host = {}, std::string addr = {}) {
  Reason x;
  x.code = std::move(code);
  x.severity = s;
  x.host = std::move(host);
  x.address = std::move(addr);
  return x;
}

// The exit mapping of issue 7 / docs/cli.md "Monitoring".
struct StatusCase {
  Verdict verdict;
  bool determined;
  const char* reason;  // a domain-level reason code, or nullptr
  bool expect_dane;
  int status;
};

TEST(Monitoring, VerdictStatus) {
  using namespace plugin_status;
  const StatusCase cases[] = {
      {Verdict::valid, true, nullptr, false, ok},
      {Verdict::valid, true, nullptr, true, ok},
      {Verdict::none, true, nullptr, false, ok},
      {Verdict::none, true, nullptr, true, critical},
      {Verdict::no_mail, true, nullptr, false, ok},
      {Verdict::no_mail, true, nullptr, true, ok},
      {Verdict::partial, true, nullptr, false, warning},
      {Verdict::unusable, true, nullptr, false, warning},
      {Verdict::invalid, true, nullptr, false, critical},
      {Verdict::dnssec_failure, true, nullptr, false, critical},
      // Not determined: the domain's servers failed (remote) ...
      {Verdict::dnssec_failure, false, "mx-lookup-failed", false, critical},
      {Verdict::partial, false, nullptr, false, critical},
      {Verdict::invalid, false, nullptr, false, critical},
      // ... or danekit's own side did (the catalog's "local" group).
      {Verdict::dnssec_failure, false, "resolver-unreachable", false, unknown},
      {Verdict::partial, false, "local-ports", false, unknown},
      {Verdict::invalid, false, "internal-error", false, unknown},
      {Verdict::undetermined, false, nullptr, false, unknown},
      {Verdict::undetermined, true, nullptr, true, unknown},
      // A local reason beside a determined verdict changes nothing.
      {Verdict::invalid, true, "local-descriptors", false, critical},
  };
  for (const auto& c : cases) {
    CheckReport r = report(c.verdict, c.determined);
    if (c.reason) r.reasons.push_back(reason(c.reason));
    EXPECT_EQ(nagios_verdict_status(r, c.expect_dane), c.status)
        << to_string(c.verdict) << " determined=" << c.determined << " reason=" << (c.reason ? c.reason : "-")
        << " expect_dane=" << c.expect_dane;
  }
}

TEST(Monitoring, LocalReasonOnAHostCounts) {
  CheckReport r = report(Verdict::partial, false);
  r.mx.push_back({});
  r.mx[0].reasons.push_back(reason("local-memory"));
  EXPECT_TRUE(undetermined_locally(r));
  EXPECT_EQ(nagios_verdict_status(r, false), plugin_status::unknown);
  r.mx[0].reasons[0].code = "address-unreachable";
  EXPECT_FALSE(undetermined_locally(r));
  EXPECT_EQ(nagios_verdict_status(r, false), plugin_status::critical);
}

// Which certificate dates matter for the published records.
struct ExpiryCase {
  const char* name;
  std::vector<ProbeResult> addresses;
  std::optional<std::int64_t> expiry;
};

TEST(Monitoring, DaneExpiry) {
  const std::int64_t leaf = now + 90 * day, inter = now + 40 * day, root = now + 10 * day;
  const ExpiryCase cases[] = {
      {"DANE-EE(3) ignores dates (RFC 7672 §3.1.1)",
       {address("192.0.2.1", Outcome::verified, usage::dane_ee, 0, {leaf, inter})},
       std::nullopt},
      {"DANE-TA(2) at depth 1: leaf and trust anchor, not above",
       {address("192.0.2.1", Outcome::verified, usage::dane_ta, 1, {leaf, inter, root})},
       inter},
      {"DANE-TA(2) at depth 2: the whole path",
       {address("192.0.2.1", Outcome::verified, usage::dane_ta, 2, {leaf, inter, root})},
       root},
      {"DANE-TA(2) bare key not sent: the chain as sent",
       {address("192.0.2.1", Outcome::verified, usage::dane_ta, 2, {leaf})},
       leaf},
      {"an address that does not authenticate contributes nothing",
       {address("192.0.2.1", Outcome::mismatch, std::nullopt, -1, {now + day})},
       std::nullopt},
      {"no DANE at all", {address("192.0.2.1", Outcome::encrypted, std::nullopt, -1, {now + day})}, std::nullopt},
      {"the earliest over addresses",
       {address("192.0.2.1", Outcome::verified, usage::dane_ta, 1, {leaf, inter}),
        address("192.0.2.2", Outcome::verified, usage::dane_ta, 0, {now + 5 * day}),
        address("192.0.2.3", Outcome::verified, usage::dane_ee, 0, {now + day})},
       now + 5 * day},
  };
  for (const auto& c : cases) {
    CheckReport r = report(Verdict::valid);
    r.mx.push_back({});
    r.mx[0].addresses = c.addresses;
    EXPECT_EQ(dane_expiry(r), c.expiry) << c.name;
  }
}

TEST(Monitoring, DaneExpiryCountsTheOtherCertificate) {
  CheckReport r = report(Verdict::valid);
  r.mx.push_back({});
  auto p = address("192.0.2.1", Outcome::verified, usage::dane_ee, 0, {now + 90 * day});
  p.alternate = ProbeResult::Alternate{};
  p.alternate->outcome = Outcome::verified;
  p.alternate->matched = record(usage::dane_ta);
  p.alternate->match_depth = 1;
  p.alternate->chain = {cert(now + 30 * day), cert(now + 20 * day)};
  r.mx[0].addresses.push_back(p);
  EXPECT_EQ(dane_expiry(r), now + 20 * day);
}

CheckReport ta_report(std::int64_t seconds_left) {
  CheckReport r = report(Verdict::valid);
  r.mx.push_back({});
  r.mx[0].host = "mx.example.org";
  r.mx[0].dane = HostDane::authenticated;
  r.mx[0].addresses.push_back(address("192.0.2.1", Outcome::verified, usage::dane_ta, 0, {now + seconds_left}));
  return r;
}

struct LineCase {
  const char* name;
  CheckReport report;
  NagiosOptions options;
  int status;
  std::string line;
};

TEST(Monitoring, NagiosLine) {
  CheckReport local = ta_report(2 * day);
  local.verdict = Verdict::undetermined;
  local.determined = false;
  local.delivery = Delivery::unknown;
  local.reasons.push_back(reason("resolver-unreachable"));

  CheckReport broken = report(Verdict::invalid);
  broken.mx.push_back({});
  broken.mx[0].addresses.push_back(address("192.0.2.1", Outcome::mismatch, std::nullopt, -1, {now + day}));
  broken.mx[0].addresses.push_back(address("2001:db8::1", Outcome::mismatch, std::nullopt, -1, {now + day}));
  broken.reasons.push_back(reason("address-special-purpose", Severity::warning, "mx.example.org", "192.0.2.1"));
  broken.reasons.push_back(reason("tlsa-mismatch", Severity::error, "mx.example.org", "192.0.2.1"));
  broken.reasons.push_back(reason("tlsa-mismatch", Severity::error, "mx.example.org", "2001:db8::1"));

  CheckReport none = report(Verdict::none);
  none.delivery = Delivery::opportunistic;

  // Free text never breaks the line: '|' would start the performance data.
  CheckReport hostile = report(Verdict::partial);
  hostile.domain = "a|b.example";
  hostile.reasons.push_back(reason("mx-cname", Severity::warning, "x|y\nz"));

  const LineCase cases[] = {
      {"DANE-TA far from expiry",
       ta_report(30 * day + 5),
       {21, 7, false},
       plugin_status::ok,
       "DANE OK - example.org: valid, delivery authenticated, 1 of 1 addresses authenticated, DANE-TA chain expires "
       "in 30 days | time=1.25s;;;0 addresses=1;;;0 authenticated=1;;;0 cert_days=30;21:;7:;;"},
      {"DANE-TA within --warn-days",
       ta_report(20 * day),
       {21, 7, false},
       plugin_status::warning,
       "DANE WARNING - example.org: valid, delivery authenticated, 1 of 1 addresses authenticated, DANE-TA chain "
       "expires in 20 days | time=1.25s;;;0 addresses=1;;;0 authenticated=1;;;0 cert_days=20;21:;7:;;"},
      {"DANE-TA 6.9 days left is 6, below --crit-days 7",
       ta_report(7 * day - 1),
       {21, 7, false},
       plugin_status::critical,
       "DANE CRITICAL - example.org: valid, delivery authenticated, 1 of 1 addresses authenticated, DANE-TA chain "
       "expires in 6 days | time=1.25s;;;0 addresses=1;;;0 authenticated=1;;;0 cert_days=6;21:;7:;;"},
      {"--crit-days 0 never goes critical on dates",
       ta_report(0),
       {0, 0, false},
       plugin_status::ok,
       "DANE OK - example.org: valid, delivery authenticated, 1 of 1 addresses authenticated, DANE-TA chain expires "
       "in 0 days | time=1.25s;;;0 addresses=1;;;0 authenticated=1;;;0 cert_days=0;0:;0:;;"},
      {"a check that did not finish is not judged by dates",
       local,
       {21, 7, false},
       plugin_status::unknown,
       "DANE UNKNOWN - example.org: undetermined, delivery unknown, 1 of 1 addresses authenticated, DANE-TA chain "
       "expires in 2 days; resolver-unreachable | time=1.25s;;;0 addresses=1;;;0 authenticated=1;;;0 "
       "cert_days=2;21:;7:;;"},
      {"invalid: the first error, and how many more",
       broken,
       {21, 7, false},
       plugin_status::critical,
       "DANE CRITICAL - example.org: invalid, delivery deferred, 0 of 2 addresses authenticated; tlsa-mismatch at "
       "192.0.2.1 (+2 more) | time=1.25s;;;0 addresses=2;;;0 authenticated=0;;;0"},
      {"none without --expect-dane",
       none,
       {21, 7, false},
       plugin_status::ok,
       "DANE OK - example.org: none, delivery opportunistic | time=1.25s;;;0 addresses=0;;;0 authenticated=0;;;0"},
      {"none with --expect-dane",
       none,
       {21, 7, true},
       plugin_status::critical,
       "DANE CRITICAL - example.org: none, delivery opportunistic, DANE expected | time=1.25s;;;0 addresses=0;;;0 "
       "authenticated=0;;;0"},
      {"no '|' or newline from the report's texts",
       hostile,
       {21, 7, false},
       plugin_status::warning,
       "DANE WARNING - a/b.example: partial, delivery deferred; mx-cname at x/y\\x0az | time=1.25s;;;0 "
       "addresses=0;;;0 authenticated=0;;;0"},
  };
  for (const auto& c : cases) {
    NagiosResult n = to_nagios(c.report, c.options);
    EXPECT_EQ(n.status, c.status) << c.name;
    EXPECT_EQ(n.line, c.line) << c.name;
  }
  EXPECT_EQ(nagios_unknown_line("--nagios checks exactly one domain"),
            "DANE UNKNOWN - --nagios checks exactly one domain");
  EXPECT_EQ(nagios_unknown_line("bad | input\n"), "DANE UNKNOWN - bad / input\\x0a");
}

TEST(Monitoring, Prometheus) {
  CheckReport a = ta_report(30 * day);
  a.mx[0].tlsa_ttl = 3600;
  a.mx[0].records.push_back({});
  a.mx[0].addresses.push_back(address("2001:db8::1", Outcome::verified, usage::dane_ee, 0, {now + 60 * day}));
  CheckReport b = report(Verdict::none);
  b.domain = "plain.example";
  b.delivery = Delivery::opportunistic;
  b.mx.push_back({});
  b.mx[0].host = "mx\"odd\\name\n";  // escaped, not trusted
  b.mx[0].addresses.push_back(address("192.0.2.9", Outcome::encrypted, std::nullopt, -1, {}));

  const std::string want =
      R"(# HELP danekit_check_timestamp_seconds When danekit checked the domain, seconds since the epoch.
# TYPE danekit_check_timestamp_seconds gauge
danekit_check_timestamp_seconds{domain="example.org"} 1795000000
danekit_check_timestamp_seconds{domain="plain.example"} 1795000000
# HELP danekit_check_duration_seconds How long the check of the domain took.
# TYPE danekit_check_duration_seconds gauge
danekit_check_duration_seconds{domain="example.org"} 1.25
danekit_check_duration_seconds{domain="plain.example"} 1.25
# HELP danekit_verdict The RFC 7672 verdict for the domain: 1 for the verdict danekit reached, 0 for the others.
# TYPE danekit_verdict gauge
danekit_verdict{domain="example.org",verdict="valid"} 1
danekit_verdict{domain="example.org",verdict="partial"} 0
danekit_verdict{domain="example.org",verdict="invalid"} 0
danekit_verdict{domain="example.org",verdict="unusable"} 0
danekit_verdict{domain="example.org",verdict="none"} 0
danekit_verdict{domain="example.org",verdict="dnssec-failure"} 0
danekit_verdict{domain="example.org",verdict="no-mail"} 0
danekit_verdict{domain="example.org",verdict="undetermined"} 0
danekit_verdict{domain="plain.example",verdict="valid"} 0
danekit_verdict{domain="plain.example",verdict="partial"} 0
danekit_verdict{domain="plain.example",verdict="invalid"} 0
danekit_verdict{domain="plain.example",verdict="unusable"} 0
danekit_verdict{domain="plain.example",verdict="none"} 1
danekit_verdict{domain="plain.example",verdict="dnssec-failure"} 0
danekit_verdict{domain="plain.example",verdict="no-mail"} 0
danekit_verdict{domain="plain.example",verdict="undetermined"} 0
# HELP danekit_determined 1 when the verdict rests on answers, 0 when failures or timeouts decided it.
# TYPE danekit_determined gauge
danekit_determined{domain="example.org"} 1
danekit_determined{domain="plain.example"} 1
# HELP danekit_authenticated 1 when a DANE sender delivers mail to the domain authenticated.
# TYPE danekit_authenticated gauge
danekit_authenticated{domain="example.org"} 1
danekit_authenticated{domain="plain.example"} 0
# HELP danekit_dane_expiry_timestamp_seconds Earliest not-after of a certificate whose dates DANE authentication depends on (DANE-TA chains), seconds since the epoch; absent when no date matters.
# TYPE danekit_dane_expiry_timestamp_seconds gauge
danekit_dane_expiry_timestamp_seconds{domain="example.org"} 1797592000
# HELP danekit_mx_authenticated 1 when the MX host authenticates with DANE on every address.
# TYPE danekit_mx_authenticated gauge
danekit_mx_authenticated{domain="example.org",mx="mx.example.org"} 1
danekit_mx_authenticated{domain="plain.example",mx="mx\"odd\\name\n"} 0
# HELP danekit_mx_tlsa_ttl_seconds TTL of the MX host's TLSA RRset; absent when it has none.
# TYPE danekit_mx_tlsa_ttl_seconds gauge
danekit_mx_tlsa_ttl_seconds{domain="example.org",mx="mx.example.org"} 3600
# HELP danekit_address_authenticated 1 when DANE authentication of the address succeeded.
# TYPE danekit_address_authenticated gauge
danekit_address_authenticated{domain="example.org",mx="mx.example.org",address="192.0.2.1"} 1
danekit_address_authenticated{domain="example.org",mx="mx.example.org",address="2001:db8::1"} 1
danekit_address_authenticated{domain="plain.example",mx="mx\"odd\\name\n",address="192.0.2.9"} 0
# HELP danekit_certificate_not_after_seconds Not-after of the certificate the address served (the earlier of two), seconds since the epoch; absent when no certificate was seen.
# TYPE danekit_certificate_not_after_seconds gauge
danekit_certificate_not_after_seconds{domain="example.org",mx="mx.example.org",address="192.0.2.1"} 1797592000
danekit_certificate_not_after_seconds{domain="example.org",mx="mx.example.org",address="2001:db8::1"} 1800184000
)";
  EXPECT_EQ(to_prometheus({a, b}), want);
  // A domain given twice is one set of series (duplicates break the scrape).
  EXPECT_EQ(to_prometheus({a, b, a}), want);
}

}  // namespace
}  // namespace danekit
