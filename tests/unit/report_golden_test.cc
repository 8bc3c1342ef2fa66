// The text and JSON reports for pinned scenarios, compared byte for byte with
// files under tests/unit/golden/. After an intended change of output, rerun
// with DANEKIT_UPDATE_GOLDEN=1 and review the diff.
//
// The text report is pinned unwrapped (width 0, as into a pipe) and at 80
// and 100 columns; the width tests check every wrapped output: no line wider
// than the width unless it is one word, the same words in the same order as
// the unwrapped report, colour codes taking no column.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "danekit/report.h"
#include "scenario.h"

namespace danekit {
namespace {

using namespace scenario;

std::string golden_path(const std::string& name) { return std::string(DANEKIT_GOLDEN_DIR) + "/" + name; }

void expect_golden(const std::string& name, const std::string& actual) {
  auto path = golden_path(name);
  if (std::getenv("DANEKIT_UPDATE_GOLDEN")) {
    std::ofstream(path) << actual;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path;
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(actual, want.str()) << "output differs from " << path;
}

World multi_mx() {
  World w;
  w.ctx.now = 1795000000;  // pinned
  w.mx("multi.example", {{10, "mx1.multi.example"}, {20, "mx2.multi.example"}});
  w.dane_host("mx1.multi.example", "192.0.2.1");
  w.dane_host("mx2.multi.example", "192.0.2.2");
  w.server = [](const ProbeRequest& r) { return r.address == "192.0.2.1" ? Outcome::mismatch : Outcome::verified; };
  return w;
}

World bogus_tlsa() {
  World w;
  w.ctx.now = 1795000000;
  w.mx("bogus.example", {{10, "mx.bogus.example"}});
  w.dane_host("mx.bogus.example", "192.0.2.1", Security::bogus);
  w.dns[{"_25._tcp.mx.bogus.example", rrtype::TLSA}].kind = AnswerKind::failure;
  w.dns[{"_25._tcp.mx.bogus.example", rrtype::TLSA}].detail = "signature expired";
  return w;
}

World unusable() {
  World w;
  w.ctx.now = 1795000000;
  w.add(ans("unusable.example", rrtype::MX, Security::secure, AnswerKind::nodata));
  w.dane_host("unusable.example", "2001:db8::25");
  w.dns[{"unusable.example", rrtype::A}] = ans("unusable.example", rrtype::A, Security::secure, AnswerKind::nodata);
  w.dns[{"unusable.example", rrtype::AAAA}] =
      ans("unusable.example", rrtype::AAAA, Security::secure, AnswerKind::data, {a_rd("2001:db8::25")});
  w.dns[{"_25._tcp.unusable.example", rrtype::TLSA}].rdata = {tlsa_rd(1, 1, 1), tlsa_rd(3, 1, 2)};
  return w;
}

// A server that serves a two-certificate chain for `host` (pinned dates and
// digests) and whose DANE outcome is `outcome`, as the session adapter
// reports it: a verified DANE-EE(3) match at depth 0.
ProbeResult served(const ProbeRequest& req, Outcome outcome, const std::string& host) {
  ProbeResult p;
  p.address = req.address;
  p.outcome = outcome;
  p.stage = "done";
  p.tls_version = "TLSv1.3";
  p.cipher = "TLS_AES_256_GCM_SHA384";
  p.elapsed = std::chrono::milliseconds(12);
  CertInfo leaf;
  leaf.subject = "CN=" + host + ",O=danekit test";
  leaf.issuer = "CN=danekit test issuing CA,O=danekit test";
  leaf.not_after = 1830000000;
  leaf.dns_names = {host};
  leaf.key_type = "EC P-256";
  leaf.spki_sha256 = std::string(64, 'c');
  CertInfo ca;
  ca.subject = leaf.issuer;
  ca.issuer = "CN=danekit test root,O=danekit test";
  ca.not_after = 1900000000;
  ca.is_ca = true;
  ca.key_type = "RSA 2048";
  ca.spki_sha256 = std::string(64, 'd');
  p.chain = {leaf, ca};
  if (outcome == Outcome::verified && !req.records.empty()) {
    p.matched = req.records.front();
    p.match_depth = 0;
    p.detail = "matched " + describe_parameters(req.records.front()) + " at depth 0";
  } else if (outcome == Outcome::mismatch) {
    p.detail = "no matching DANE TLSA records";
  }
  if (!req.pkix_name.empty()) {
    p.pkix = Pkix::valid;
    p.pkix_detail = "valid for " + req.pkix_name;
  }
  return p;
}

// valid.example: two DANE hosts, one with an IPv4 and an IPv6 address, all verified.
World valid() {
  World w;
  w.ctx.now = 1795000000;
  w.mx("valid.example", {{10, "mx1.valid.example"}, {20, "mx2.valid.example"}});
  w.dane_host("mx1.valid.example", "192.0.2.10");
  w.add(ans("mx1.valid.example", rrtype::AAAA, S::secure, K::data, {a_rd("2001:db8:25:0:0:0:0:10")}));
  w.dane_host("mx2.valid.example", "192.0.2.20");
  w.probe = [](const ProbeRequest& r) {
    return served(r, Outcome::verified, r.address == "192.0.2.20" ? "mx2.valid.example" : "mx1.valid.example");
  };
  return w;
}

// partial.example: the first host serves a key its record does not name.
World partial() {
  World w;
  w.ctx.now = 1795000000;
  w.mx("partial.example", {{10, "mx1.partial.example"}, {20, "mx2.partial.example"}});
  w.dane_host("mx1.partial.example", "192.0.2.31");
  w.dane_host("mx2.partial.example", "192.0.2.32");
  w.probe = [](const ProbeRequest& r) {
    return r.address == "192.0.2.31" ? served(r, Outcome::mismatch, "mx1.partial.example")
                                     : served(r, Outcome::verified, "mx2.partial.example");
  };
  return w;
}

std::vector<std::uint8_t> txt_rd(const std::string& text) {
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(text.size())};  // under 256 bytes here
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

// sts.example: MTA-STS in testing mode whose policy names only the second MX
// host, a first host with a long name and an IPv6 address whose certificate
// fails the Web PKI, TLS-RPT: long MX lines and long findings.
constexpr const char* kLongHost = "mx1.a-rather-long-mail-exchanger-name.hosting-provider.example";
World sts() {
  World w;
  w.ctx.now = 1795000000;
  w.mta_sts = true;
  w.mx("sts.example", {{10, kLongHost}, {20, "mx2.sts.example"}});
  w.add(ans(kLongHost, rrtype::A, S::secure, K::nodata));
  w.add(ans(kLongHost, rrtype::AAAA, S::secure, K::data, {a_rd("2001:db8:25:0:0:0:0:41")}));
  w.add(ans(std::string("_25._tcp.") + kLongHost, rrtype::TLSA, S::secure, K::data, {tlsa_rd(3, 1, 1)}));
  w.dane_host("mx2.sts.example", "192.0.2.42");
  w.add(ans("mta-sts.sts.example", rrtype::A, S::secure, K::data, {a_rd("192.0.2.80")}));
  w.add(ans("mta-sts.sts.example", rrtype::AAAA, S::secure, K::nodata));
  w.add(ans("_mta-sts.sts.example", rrtype::TXT, S::secure, K::data, {txt_rd("v=STSv1; id=20260101T000000")}));
  w.add(ans("_smtp._tls.sts.example", rrtype::TXT, S::secure, K::data,
            {txt_rd("v=TLSRPTv1; rua=mailto:tls-reports@sts.example")}));
  w.policy_server = [](const HttpsFetchRequest&) {
    HttpsFetchResult r;
    r.outcome = FetchOutcome::ok;
    r.address = "192.0.2.80";
    r.status = 200;
    r.content_type = "text/plain";
    r.body = "version: STSv1\r\nmode: testing\r\nmx: mx2.sts.example\r\nmax_age: 86400\r\n";
    return r;
  };
  w.probe = [](const ProbeRequest& r) {
    bool first = r.address != "192.0.2.42";
    ProbeResult p = served(r, Outcome::verified, first ? kLongHost : "mx2.sts.example");
    if (first && !r.pkix_name.empty()) {
      p.pkix = Pkix::invalid;
      p.pkix_detail = "unable to get local issuer certificate: the issuer is not a trusted web CA";
    }
    return p;
  };
  return w;
}

struct Scenario {
  const char* name;
  World (*world)();
  const char* domain;
};
const Scenario kWrapped[] = {
    {"valid", valid, "valid.example"},
    {"partial", partial, "partial.example"},
    {"sts", sts, "sts.example"},
};

TextStyle at(int width, bool verbose = false, bool color = false) {
  TextStyle s;
  s.width = width;
  s.verbose = verbose;
  s.color = color;
  return s;
}

TEST(ReportGolden, MultiMxText) { expect_golden("multi-mx.txt", render_text(multi_mx().run("multi.example"), {})); }
TEST(ReportGolden, MultiMxColour) {
  expect_golden("multi-mx.ansi", render_text(multi_mx().run("multi.example"), at(0, false, true)));
}
TEST(ReportGolden, MultiMxJson) { expect_golden("multi-mx.json", to_json(multi_mx().run("multi.example")) + "\n"); }
TEST(ReportGolden, BogusTlsaText) {
  expect_golden("bogus-tlsa.txt", render_text(bogus_tlsa().run("bogus.example"), {}));
}
TEST(ReportGolden, BogusTlsaJson) {
  expect_golden("bogus-tlsa.json", to_json(bogus_tlsa().run("bogus.example")) + "\n");
}
TEST(ReportGolden, UnusableText) { expect_golden("unusable.txt", render_text(unusable().run("unusable.example"), {})); }

// valid-80.txt, valid-100.txt, partial-80.txt, ...: concise, at both widths.
TEST(ReportGolden, WrappedText) {
  for (const auto& s : kWrapped) {
    auto report = s.world().run(s.domain);
    for (int width : {80, 100})
      expect_golden(std::string(s.name) + "-" + std::to_string(width) + ".txt", render_text(report, at(width)));
  }
}
TEST(ReportGolden, WrappedVerboseText) {
  expect_golden("valid-verbose-80.txt", render_text(valid().run("valid.example"), at(80, true)));
}
TEST(ReportGolden, WrappedColour) {
  expect_golden("sts-80.ansi", render_text(sts().run("sts.example"), at(80, false, true)));
}

// Three domains, as `check` prints them: one shared legend, then the summary.
TEST(ReportGolden, MultiDomainSummary) {
  std::vector<CheckReport> reports{valid().run("valid.example"), partial().run("partial.example"),
                                   unusable().run("unusable.example")};
  TextStyle style = at(80);
  style.legend = false;
  std::string out;
  for (std::size_t i = 0; i < reports.size(); ++i) out += (i ? "\n" : "") + render_text(reports[i], style);
  out += "\n" + render_summary(reports, exit_status::dane_problem, style);
  expect_golden("three-domains-80.txt", out);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string strip_sgr(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      auto m = s.find('m', i);
      if (m == std::string::npos) break;
      i = m;
      continue;
    }
    out += s[i];
  }
  return out;
}

std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : strip_sgr(s))
    if ((c & 0xc0) != 0x80) ++n;
  return n;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(strip_sgr(text));
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Every wrapped line fits, or is one word on its own; wrapping moves words
// between lines and never splits, drops or adds one.
void expect_fits(const std::string& out, const std::string& unwrapped, std::size_t width, const std::string& what) {
  for (const auto& l : lines_of(out)) {
    auto plain = strip_sgr(l);
    auto first = plain.find_first_not_of(' ');
    ASSERT_NE(first, std::string::npos) << what << ": blank line";
    if (columns(l) > width)
      EXPECT_EQ(plain.find(' ', first), std::string::npos) << what << ": line wider than " << width << ": " << l;
  }
  EXPECT_EQ(words(out), words(unwrapped)) << what;
}

TEST(ReportWidth, NoLineWiderThanTheWidthUnlessOneWord) {
  for (const auto& s : kWrapped) {
    auto report = s.world().run(s.domain);
    for (bool verbose : {false, true})
      for (bool color : {false, true})
        for (int width : {80, 100}) {
          std::string what = fmt::format("{} at {}{}{}", s.name, width, verbose ? " -v" : "", color ? " colour" : "");
          expect_fits(render_text(report, at(width, verbose, color)), render_text(report, at(0, verbose, color)),
                      static_cast<std::size_t>(width), what);
        }
  }
  // The scenarios are long enough to need it: the MTA-STS one wraps at both widths.
  auto report = sts().run("sts.example");
  for (int width : {80, 100})
    EXPECT_GT(lines_of(render_text(report, at(width))).size(), lines_of(render_text(report, at(0))).size()) << width;
}

TEST(ReportWidth, AWordWiderThanTheLineStaysWhole) {
  auto report = sts().run("sts.example");
  auto out = render_text(report, at(40, true));
  std::string owner = std::string("_25._tcp.") + kLongHost;
  bool alone = false;
  for (const auto& l : lines_of(out))
    if (l.find(owner) != std::string::npos) alone |= l.find_first_not_of(' ') == l.find(owner) && columns(l) > 40;
  EXPECT_TRUE(alone) << out;
  expect_fits(out, render_text(report, at(0, true)), 40, "sts at 40 -v");
}

TEST(ReportWidth, ContinuationHangsUnderItsLine) {
  auto out = render_text(sts().run("sts.example"), at(80));
  auto ls = lines_of(out);
  // A finding continues two columns right of its marker, its fix under the
  // text after "fix: ".
  bool finding = false, fix = false;
  for (std::size_t i = 0; i + 1 < ls.size(); ++i) {
    if (ls[i].rfind("    ! ", 0) == 0 || ls[i].rfind("    x ", 0) == 0)
      finding |= ls[i + 1].rfind("      ", 0) == 0 && ls[i + 1][6] != ' ' && ls[i + 1].rfind("      fix: ", 0) != 0;
    if (ls[i].rfind("      fix: ", 0) == 0) fix |= ls[i + 1].rfind("           ", 0) == 0 && ls[i + 1][11] != ' ';
  }
  EXPECT_TRUE(finding) << out;
  EXPECT_TRUE(fix) << out;
}

TEST(ReportWidth, ColourClosesAtABreakAndReopens) {
  auto out = render_text(sts().run("sts.example"), at(80, false, true));
  for (const auto& l : lines_of(out)) {
    // Each line leaves no colour open: the last SGR sequence on it resets.
    auto last = l.rfind("\x1b[");
    if (last != std::string::npos) EXPECT_EQ(l.substr(last, 4), "\x1b[0m") << l;
  }
}

bool has_chain(const std::string& out, const std::string& host) {
  return out.find("0 CN=" + host + ",O=danekit test") != std::string::npos;
}

TEST(ReportConcise, ValidDomainHidesChainsAndDnsVerboseShowsThem) {
  auto report = valid().run("valid.example");
  auto concise = render_text(report, at(0));
  auto verbose = render_text(report, at(0, true));
  EXPECT_FALSE(has_chain(concise, "mx1.valid.example")) << concise;
  EXPECT_EQ(concise.find("issuer CN="), std::string::npos) << concise;
  EXPECT_EQ(concise.find("TLSA _25._tcp."), std::string::npos) << concise;
  EXPECT_EQ(concise.find("MX valid.example secure"), std::string::npos) << concise;
  EXPECT_TRUE(has_chain(verbose, "mx1.valid.example")) << verbose;
  EXPECT_TRUE(has_chain(verbose, "mx2.valid.example")) << verbose;
  EXPECT_NE(verbose.find("1 CN=danekit test issuing CA"), std::string::npos) << verbose;
  EXPECT_NE(verbose.find("TLSA _25._tcp.mx1.valid.example secure data"), std::string::npos) << verbose;
  EXPECT_NE(verbose.find("matched DANE-EE(3) SPKI(1) SHA2-256(1) at depth 0"), std::string::npos) << verbose;
  // A handful of lines: verdict, sentence, per host the MX line, the TLSA
  // base and its record, the addresses; the legend.
  EXPECT_LE(lines_of(concise).size(), 12u) << concise;
  EXPECT_GT(lines_of(verbose).size(), lines_of(concise).size() + 10) << verbose;
}

TEST(ReportConcise, FailingAddressKeepsItsChainOnly) {
  auto out = render_text(partial().run("partial.example"), at(0));
  EXPECT_TRUE(has_chain(out, "mx1.partial.example")) << out;
  EXPECT_NE(out.find("no matching DANE TLSA records"), std::string::npos) << out;
  EXPECT_FALSE(has_chain(out, "mx2.partial.example")) << out;
}

TEST(ReportConcise, FailedAnswersKeepTheirDnsLines) {
  auto out = render_text(bogus_tlsa().run("bogus.example"), at(0));
  EXPECT_NE(out.find("TLSA _25._tcp.mx.bogus.example bogus failed (signature expired)"), std::string::npos) << out;
  EXPECT_NE(out.find("A mx.bogus.example secure data"), std::string::npos) << out;  // the host's other answers too
  EXPECT_EQ(out.find("MX bogus.example secure data"), std::string::npos) << out;    // the MX answer validated
}

TEST(ReportLegend, OnceWhenMarkersOrDepthsShow) {
  auto out = render_text(multi_mx().run("multi.example"), at(0));
  auto legend = std::string(
      "Legend: x error, ! warning, i info; ADDRESS@N = matched at chain depth N (0 = the "
      "server's certificate)\n");
  ASSERT_GE(out.size(), legend.size());
  EXPECT_EQ(out.substr(out.size() - legend.size()), legend) << out;
  EXPECT_EQ(out.find("Legend:"), out.rfind("Legend:"));
  TextStyle none = at(0);
  none.legend = false;
  EXPECT_EQ(render_text(multi_mx().run("multi.example"), none).find("Legend:"), std::string::npos);
  // A report with no finding and no match has nothing to explain.
  CheckReport bare;
  bare.domain = "bare.example";
  EXPECT_EQ(render_text(bare, at(0)).find("Legend:"), std::string::npos);
  // Only the part that applies: a match without findings.
  auto valid_out = render_text(valid().run("valid.example"), at(0));
  EXPECT_NE(valid_out.find("Legend: ADDRESS@N = matched at chain depth N"), std::string::npos) << valid_out;
}

TEST(ReportColour, PartialIsYellowWhenMailGoesOutAuthenticated) {
  CheckReport r;
  r.domain = "p.example";
  r.verdict = Verdict::partial;
  r.delivery = Delivery::authenticated;
  EXPECT_NE(render_text(r, at(0, false, true)).find("\x1b[1;33mPARTIAL\x1b[0m"), std::string::npos);
  r.delivery = Delivery::deferred;
  EXPECT_NE(render_text(r, at(0, false, true)).find("\x1b[1;31mPARTIAL\x1b[0m"), std::string::npos);
  r.verdict = Verdict::invalid;
  r.delivery = Delivery::authenticated;
  EXPECT_NE(render_text(r, at(0, false, true)).find("\x1b[1;31mINVALID\x1b[0m"), std::string::npos);
  // The exit status stays that of a DANE problem.
  r.verdict = Verdict::partial;
  EXPECT_EQ(exit_status_for(r), exit_status::dane_problem);
}

TEST(ReportSummary, CountsVerdictsInOrder) {
  std::vector<CheckReport> rs(4);
  rs[0].verdict = Verdict::none;
  rs[1].verdict = Verdict::valid;
  rs[2].verdict = Verdict::partial;
  rs[3].verdict = Verdict::none;
  for (auto& r : rs) r.domain = "d.example";
  EXPECT_EQ(render_summary(rs, 1, at(0)), "4 domains: 1 valid, 1 partial, 2 none (exit status 1)\n");
  EXPECT_EQ(render_summary({rs[1]}, 0, at(0)), "1 domain: 1 valid (exit status 0)\n");
  // The legend comes once, before the count, when a report shows a marker.
  rs[2].reasons.push_back(Reason{"dane-mismatch", Severity::error, "RFC 7672 §2.2", "text", "", "", ""});
  TextStyle quiet = at(0);
  quiet.legend = false;
  EXPECT_EQ(render_summary(rs, 1, quiet),
            "Legend: x error, ! warning, i info\n4 domains: 1 valid, 1 partial, 2 none (exit status 1)\n");
}

}  // namespace
}  // namespace danekit
