// RFC 8460 aggregate reports: the decoder (JSON, gzip, mail), the parser with
// its tolerances, and the aggregation, as tables of cases.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "danekit/tlsrpt_report.h"
#include "danekit/tlsrpt_summary.h"

namespace danekit {
namespace {

std::string slurp(const std::string& name) {
  std::ifstream in(std::filesystem::path(DANEKIT_CLI_DATA_DIR) / "tlsrpt" / name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string gzip_of(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A minimal valid report around one policy object.
std::string report_with(const std::string& policy) {
  return R"({"organization-name":"Org","date-range":{"start-datetime":"2026-11-20T00:00:00Z",)"
         R"("end-datetime":"2026-11-20T23:59:59Z"},"contact-info":"a@org.example","report-id":"r1",)"
         R"("policies":[)" +
         policy + "]}";
}

TEST(TlsrptDatetime, Forms) {
  struct Case {
    const char* text;
    std::optional<std::int64_t> want;
  };
  const Case cases[] = {
      {"2016-04-01T00:00:00Z", 1459468800},        // RFC 8460 §4.4
      {"2016-04-01T23:59:59Z", 1459555199},        //
      {"2016-04-01T00:00:00.000Z", 1459468800},    // fractional seconds
      {"2016-04-01T00:00:00.5", 1459468800},       // no zone: UTC
      {"2016-04-01T00:00:00", 1459468800},         //
      {"2016-04-01 00:00:00z", 1459468800},        // space, lower-case z
      {"2016-04-01t00:00:00Z", 1459468800},        //
      {"2016-04-01T02:00:00+02:00", 1459468800},   // offset
      {"2016-03-31T22:00:00-02:00", 1459468800},   //
      {"2016-04-01", std::nullopt},                // a date alone
      {"2016-02-30T00:00:00Z", std::nullopt},      // no such day
      {"2016-04-01T24:00:00Z", std::nullopt},      //
      {"2016-04-01T00:00:00.Z", std::nullopt},     // a dot without digits
      {"2016-04-01T00:00:00+0200", std::nullopt},  // offset without colon
      {"2016-04-01T00:00:00Zjunk", std::nullopt},  //
      {"1459468800", std::nullopt},                // epoch seconds
      {"", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_tlsrpt_datetime(c.text), c.want) << c.text;
}

TEST(TlsrptParse, TheRfcExample) {
  auto p = parse_tlsrpt_report(slurp("rfc8460-example.json"));
  ASSERT_TRUE(p.report) << p.error;
  EXPECT_TRUE(p.findings.empty());
  const auto& r = *p.report;
  EXPECT_EQ(r.organization_name, "Company-X");
  EXPECT_EQ(r.report_id, "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
  EXPECT_EQ(r.contact_info, "sts-reporting@company-x.example");
  EXPECT_EQ(r.start, 1459468800);
  EXPECT_EQ(r.end, 1459555199);
  ASSERT_EQ(r.policies.size(), 1u);
  const auto& pol = r.policies[0];
  EXPECT_EQ(pol.policy_type, "sts");
  EXPECT_EQ(pol.policy_domain, "company-y.example");
  EXPECT_EQ(pol.policy_string.size(), 4u);
  EXPECT_EQ(pol.mx_host, std::vector<std::string>{"*.mail.company-y.example"});  // a string, not an array
  EXPECT_EQ(pol.total_successful_session_count, 5326u);
  EXPECT_EQ(pol.total_failure_session_count, 303u);
  ASSERT_EQ(pol.failure_details.size(), 3u);
  EXPECT_EQ(pol.failure_details[1].result_type, "starttls-not-supported");
  EXPECT_EQ(pol.failure_details[1].receiving_ip, "203.0.113.56");
  EXPECT_EQ(pol.failure_details[1].failed_session_count, 200u);
  EXPECT_EQ(pol.failure_details[2].failure_reason_code, "X509_V_ERR_PROOF_OF_POSSESSION");  // failure-error-code
}

// Each tolerance with the shape it accepts, and what a bad value becomes.
TEST(TlsrptParse, Tolerances) {
  struct Case {
    const char* name;
    std::string policy;
    std::vector<std::string> mx_host;
    std::string host;  // receiving-mx-hostname of the first detail
    std::uint64_t ok, failed, detail_count;
    std::size_t findings;
  };
  const std::string summary = R"("summary":{"total-successful-session-count":10,"total-failure-session-count":2})";
  const std::string detail =
      R"("failure-details":[{"result-type":"tlsa-invalid","receiving-mx-hostname":"mx.example.","failed-session-count":2}])";
  const Case cases[] = {
      {"mx-host array",
       R"({"policy":{"policy-type":"tlsa","policy-domain":"example","mx-host":["mx.example","b.example"]},)" + summary +
           "," + detail + "}",
       {"mx.example", "b.example"},
       "mx.example",
       10,
       2,
       2,
       0},
      {"mx-host string",
       R"({"policy":{"policy-type":"tlsa","policy-domain":"example","mx-host":"MX.Example."},)" + summary + "}",
       {"mx.example"},
       "",
       10,
       2,
       0,
       0},
      {"mx-host-pattern",
       R"({"policy":{"policy-type":"sts","policy-domain":"example","mx-host-pattern":["*.example"]},)" + summary + "}",
       {"*.example"},
       "",
       10,
       2,
       0,
       0},
      {"counts as strings",
       R"({"policy":{"policy-type":"tlsa","policy-domain":"example"},"summary":{"total-successful-session-count":"10","total-failure-session-count":"2"},"failure-details":[{"result-type":"tlsa-invalid","receiving-mx-hostname":"MX.EXAMPLE","failed-session-count":"2"}]})",
       {},
       "mx.example",
       10,
       2,
       2,
       0},
      {"negative count",
       R"({"policy":{"policy-type":"tlsa","policy-domain":"example"},"summary":{"total-successful-session-count":-1,"total-failure-session-count":2.5}})",
       {},
       "",
       0,
       0,
       0,
       2},
      {"count with a sign in a string",
       R"({"policy":{"policy-type":"tlsa","policy-domain":"example"},"summary":{"total-successful-session-count":"+3","total-failure-session-count":"0x2"}})",
       {},
       "",
       0,
       0,
       0,
       2},
      {"no summary", R"({"policy":{"policy-type":"tlsa","policy-domain":"example"}})", {}, "", 0, 0, 0, 1},
      {"no policy object", "{" + summary + "}", {}, "", 10, 2, 0, 1},
      {"unknown policy-type",
       R"({"policy":{"policy-type":"dane","policy-domain":"example"},)" + summary + "}",
       {},
       "",
       10,
       2,
       0,
       1},
      {"unknown keys ignored",
       R"({"policy":{"policy-type":"tlsa","policy-domain":"example","x-vendor":[1,2]},"x-other":{},)" + summary + "}",
       {},
       "",
       10,
       2,
       0,
       0},
      {"detail without result-type and count",
       R"({"policy":{"policy-type":"tlsa","policy-domain":"example"},)" + summary +
           R"(,"failure-details":[{"receiving-mx-hostname":"mx.example"}]})",
       {},
       "mx.example",
       10,
       2,
       0,
       2},
  };
  for (const auto& c : cases) {
    auto p = parse_tlsrpt_report(report_with(c.policy));
    ASSERT_TRUE(p.report) << c.name << ": " << p.error;
    ASSERT_EQ(p.report->policies.size(), 1u) << c.name;
    const auto& pol = p.report->policies[0];
    EXPECT_EQ(pol.mx_host, c.mx_host) << c.name;
    EXPECT_EQ(pol.total_successful_session_count, c.ok) << c.name;
    EXPECT_EQ(pol.total_failure_session_count, c.failed) << c.name;
    if (!pol.failure_details.empty()) {
      EXPECT_EQ(pol.failure_details[0].receiving_mx_hostname, c.host) << c.name;
      EXPECT_EQ(pol.failure_details[0].failed_session_count, c.detail_count) << c.name;
    }
    EXPECT_EQ(p.findings.size(), c.findings) << c.name << ": " << (p.findings.empty() ? "" : p.findings[0]);
  }
}

TEST(TlsrptParse, MissingPartsAreFindings) {
  auto p = parse_tlsrpt_report(R"({"policies":[]})");
  ASSERT_TRUE(p.report) << p.error;
  std::vector<std::string> want{"report: no organization-name", "report: no contact-info", "report: no report-id",
                                "report: no date-range", "report: policies is empty"};
  EXPECT_EQ(p.findings, want);
  p = parse_tlsrpt_report(R"({"organization-name":7,"date-range":{"start-datetime":"x"}})");
  ASSERT_TRUE(p.report);
  EXPECT_EQ(p.findings.front(), "report: organization-name is not a string");
}

TEST(TlsrptParse, UnusableInput) {
  TlsrptLimits small;
  small.max_policies = 2;
  small.max_failure_details = 2;
  std::string deep(40, '[');
  const std::string detail = R"({"result-type":"x","failed-session-count":1})";
  struct Case {
    const char* name;
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"not JSON", "hello", "not JSON (at byte 1)"},
      {"truncated", R"({"policies": [)", "not JSON (it ends early, after 14 bytes)"},
      {"an array", "[1,2]", "the JSON is not an object (RFC 8460 §4.4)"},
      {"too deep", "{\"a\":" + deep, "JSON nests deeper than 16 levels"},
      {"too many policies", report_with("{},{},{}"), "more than 2 policies"},
      {"too many details",
       report_with(R"({"failure-details":[)" + detail + "," + detail + R"(]},{"failure-details":[)" + detail + "]}"),
       "more than 2 failure-details entries"},
  };
  for (const auto& c : cases) {
    auto p = parse_tlsrpt_report(c.text, small);
    EXPECT_FALSE(p.report) << c.name;
    EXPECT_EQ(p.error, c.error) << c.name;
  }
  TlsrptLimits few;
  few.max_json_values = 100;
  std::string many = "{\"a\":[";
  for (int i = 0; i < 200; ++i) many += "1,";
  many += "1]}";
  EXPECT_EQ(parse_tlsrpt_report(many, few).error, "JSON holds more than 100 values");
}

TEST(TlsrptDecode, Encodings) {
  const std::string json = slurp("source/dane-provider.json");
  ASSERT_FALSE(json.empty());
  struct Case {
    const char* name;
    std::string bytes;
    std::optional<TlsrptEncoding> encoding;
    std::string error;
  };
  TlsrptLimits limits;
  const Case cases[] = {
      {"plain JSON", json, TlsrptEncoding::json, ""},
      {"JSON after a BOM and blank lines", "\xef\xbb\xbf\r\n\n" + json, TlsrptEncoding::json, ""},
      {"gzip file", slurp("dane-provider.json.gz"), TlsrptEncoding::gzip, ""},
      {"two gzip members", gzip_of(json.substr(0, 100)) + gzip_of(json.substr(100)), TlsrptEncoding::gzip, ""},
      {"mail, tlsrpt+gzip in base64", slurp("report-mail.eml"), TlsrptEncoding::mail_gzip, ""},
      {"truncated gzip", slurp("truncated.json.gz"), std::nullopt, "gzip data is truncated"},
      {"gzip bomb", slurp("bomb.json.gz"), std::nullopt, "decompressed size is over 64 MiB (a gzip bomb?)"},
      {"corrupt gzip", std::string("\x1f\x8b\x08\x00garbage-garbage", 19), std::nullopt,
       "gzip data is corrupt (invalid code lengths set)"},
      {"mail without a report part", slurp("no-report.eml"), std::nullopt,
       "no application/tlsrpt+gzip or application/tlsrpt+json part in the mail message"},
      {"text", "This is not a TLS report.\n", std::nullopt, "neither JSON, gzip nor a mail message"},
      {"empty", "", std::nullopt, "empty"},
  };
  for (const auto& c : cases) {
    auto d = decode_tlsrpt_input(c.bytes, limits);
    if (c.encoding) {
      ASSERT_TRUE(d.decoded) << c.name << ": " << d.error;
      EXPECT_EQ(d.decoded->encoding, *c.encoding) << c.name;
      EXPECT_TRUE(parse_tlsrpt_report(d.decoded->json).report) << c.name;
    } else {
      EXPECT_FALSE(d.decoded) << c.name;
      EXPECT_EQ(d.error, c.error) << c.name;
    }
  }
  EXPECT_EQ(decode_tlsrpt_input(std::string(17u << 20, ' '), limits).error, "larger than 16 MiB");
}

// Mail shapes (RFC 8460 §5.3, RFC 2045/2046): the report part found wherever
// it is, in base64 or not, and the bounds on parts and nesting.
TEST(TlsrptDecode, MailShapes) {
  const std::string json = R"({"organization-name":"Org","policies":[]})";
  auto message = [](const std::string& content_type, const std::string& body) {
    return "From: a@b.example\r\nSubject: Report Domain: example.org\r\nMIME-Version: 1.0\r\nContent-Type: " +
           content_type + "\r\n\r\n" + body;
  };
  auto part = [](const std::string& headers, const std::string& body) { return headers + "\r\n\r\n" + body + "\r\n"; };
  std::string b64_json = "eyJvcmdhbml6YXRpb24tbmFtZSI6Ik9yZyIsInBvbGljaWVzIjpbXX0=";
  struct Case {
    const char* name;
    std::string bytes;
    std::string error;  // empty: decodes to `json`
  };
  const Case cases[] = {
      {"tlsrpt+json in base64",
       message("multipart/report; report-type=tlsrpt; boundary=XX",
               "--XX\r\n" + part("Content-Type: text/plain", "hello") + "--XX\r\n" +
                   part("Content-Type: application/tlsrpt+json\r\nContent-Transfer-Encoding: base64",
                        b64_json.substr(0, 20) + "\r\n" + b64_json.substr(20)) +
                   "--XX--\r\n"),
       ""},
      {"tlsrpt+json as 7bit, LF lines, quoted boundary, folded header",
       "MIME-Version: 1.0\nContent-Type: multipart/report;\n\treport-type=\"tlsrpt\"; boundary=\"b 1\"\n\n--b 1\n"
       "Content-Type: Application/TLSRPT+JSON; charset=utf-8\n\n" +
           json + "\n--b 1--\n",
       ""},
      {"a single-part message", message("application/tlsrpt+json", json), ""},
      {"no close delimiter (cut short)",
       message("multipart/report; boundary=XX", "--XX\r\n" + part("Content-Type: text/plain", "hello") + "--XX\r\n" +
                                                    "Content-Type: application/tlsrpt+json\r\n\r\n" + json),
       ""},
      {"nested multipart",
       message("multipart/mixed; boundary=outer",
               "--outer\r\n" +
                   part("Content-Type: multipart/report; report-type=tlsrpt; boundary=inner",
                        "--inner\r\n" + part("Content-Type: application/tlsrpt+json", json) + "--inner--") +
                   "--outer--\r\n"),
       ""},
      {"bad base64",
       message("multipart/report; boundary=XX", "--XX\r\n" +
                                                    part("Content-Type: application/tlsrpt+json\r\n"
                                                         "Content-Transfer-Encoding: base64",
                                                         "!!!!") +
                                                    "--XX--\r\n"),
       "the application/tlsrpt+json part is not valid base64"},
      {"quoted-printable",
       message("multipart/report; boundary=XX", "--XX\r\n" +
                                                    part("Content-Type: application/tlsrpt+json\r\n"
                                                         "Content-Transfer-Encoding: quoted-printable",
                                                         json) +
                                                    "--XX--\r\n"),
       "the application/tlsrpt+json part has Content-Transfer-Encoding 'quoted-printable', not base64"},
      {"gzip part that is not gzip",
       message("multipart/report; boundary=XX",
               "--XX\r\n" + part("Content-Type: application/tlsrpt+gzip", json) + "--XX--\r\n"),
       "the application/tlsrpt+gzip part is not gzip data"},
      {"no boundary", message("multipart/report", "--XX\r\n"), "a multipart/report part has no boundary"},
      {"nested too deep",
       message("multipart/mixed; boundary=a",
               "--a\r\n" +
                   part("Content-Type: multipart/mixed; boundary=b",
                        "--b\r\n" +
                            part("Content-Type: multipart/mixed; boundary=c",
                                 "--c\r\n" +
                                     part("Content-Type: multipart/mixed; boundary=d",
                                          "--d\r\n" + part("Content-Type: multipart/mixed; boundary=e", "") + "--d--") +
                                     "--c--") +
                            "--b--") +
                   "--a--\r\n"),
       "the mail message nests multiparts more than 4 deep"},
  };
  for (const auto& c : cases) {
    auto d = decode_tlsrpt_input(c.bytes);
    if (c.error.empty()) {
      ASSERT_TRUE(d.decoded) << c.name << ": " << d.error;
      EXPECT_EQ(d.decoded->json, json) << c.name;
    } else {
      EXPECT_FALSE(d.decoded) << c.name;
      EXPECT_EQ(d.error, c.error) << c.name;
    }
  }
  std::string fields;
  for (int i = 0; i < 600; ++i) fields += "X-Field: " + std::to_string(i) + "\r\n";
  EXPECT_EQ(decode_tlsrpt_input(fields + message("application/tlsrpt+json", json)).error,
            "neither JSON, gzip nor a mail message");
  std::string many;
  for (int i = 0; i < 100; ++i) many += "--XX\r\n" + part("Content-Type: text/plain", "x");
  EXPECT_EQ(decode_tlsrpt_input(message("multipart/report; boundary=XX", many + "--XX--\r\n")).error,
            "the mail message has more than 64 MIME parts");
}

TEST(TlsrptSummary, AggregatesAndDeduplicates) {
  TlsrptSummary s;
  for (const char* f : {"rfc8460-example.json", "resent-by-https.json", "no-policy-found.json"})
    add_tlsrpt_report(s, f, parse_tlsrpt_report(slurp(f)));
  add_tlsrpt_report(s, "dane-provider.json.gz",
                    parse_tlsrpt_report(decode_tlsrpt_input(slurp("dane-provider.json.gz")).decoded->json));
  add_tlsrpt_error(s, "broken.json", "not JSON");
  EXPECT_EQ(s.files_read, 4u);
  EXPECT_EQ(s.reports, 3u);
  ASSERT_EQ(s.duplicates.size(), 1u);
  EXPECT_EQ(s.duplicates[0].file, "resent-by-https.json");
  EXPECT_EQ(s.duplicates[0].first_file, "rfc8460-example.json");
  ASSERT_EQ(s.errors.size(), 1u);

  struct Row {
    std::string type, domain;
    std::uint64_t ok, failed, detailed;
    std::size_t hosts;
  };
  const Row rows[] = {
      {"sts", "company-y.example", 5326, 303, 303, 4},  // counted once, not twice
      {"tlsa", "example.org", 1200, 57, 57, 2},
      {"tlsa", "example.net", 310, 0, 0, 1},
      {"no-policy-found", "example.com", 0, 0, 9, 1},
  };
  for (const auto& r : rows) {
    auto it = s.policies.find({r.type, r.domain});
    ASSERT_NE(it, s.policies.end()) << r.domain;
    EXPECT_EQ(it->second.successful_sessions, r.ok) << r.domain;
    EXPECT_EQ(it->second.failed_sessions, r.failed) << r.domain;
    EXPECT_EQ(it->second.detailed_failures, r.detailed) << r.domain;
    EXPECT_EQ(it->second.hosts.size(), r.hosts) << r.domain;
  }
  // MX2.example.org. and mx2.example.org. are one host; its tlsa-invalid entries one row.
  const auto& mx2 = s.policies.at({"tlsa", "example.org"}).hosts.at("mx2.example.org");
  EXPECT_EQ(mx2.failed_sessions, 53u);
  const auto& tlsa_invalid = mx2.results.at("tlsa-invalid");
  EXPECT_EQ(tlsa_invalid.receiving_ips, (std::set<std::string>{"198.51.100.25", "2001:db8:25::25"}));
  EXPECT_EQ(tlsa_invalid.sending_ips, (std::set<std::string>{"192.0.2.10", "192.0.2.11"}));
  // Policies with most failures first.
  auto order = sorted_policies(s);
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[0]->policy_domain, "company-y.example");
  EXPECT_EQ(order[1]->policy_domain, "example.org");
  EXPECT_EQ(order[2]->policy_domain, "example.com");
  // More details than the summary says failed is a finding.
  bool over = false;
  for (const auto& f : s.findings)
    over |= f.text.find("failure-details count 9 sessions, the summary 0") != std::string::npos;
  EXPECT_TRUE(over);
}

TEST(TlsrptSummary, ReportWithoutIdIsNeverADuplicate) {
  TlsrptSummary s;
  const std::string text =
      R"({"organization-name":"Org","policies":[{"policy":{"policy-type":"sts","policy-domain":"a.example"},"summary":{"total-successful-session-count":1,"total-failure-session-count":0}}]})";
  add_tlsrpt_report(s, "a", parse_tlsrpt_report(text));
  add_tlsrpt_report(s, "b", parse_tlsrpt_report(text));
  EXPECT_EQ(s.reports, 2u);
  EXPECT_TRUE(s.duplicates.empty());
  EXPECT_EQ(s.policies.at({"sts", "a.example"}).successful_sessions, 2u);
}

// Address lists are bounded: five in text, then "and N more"; twenty in JSON,
// then NAME_more.
TEST(TlsrptSummary, ListsAreBounded) {
  std::string details;
  for (int i = 0; i < 25; ++i)
    details += fmt::format(R"({}{{"result-type":"starttls-not-supported","receiving-mx-hostname":"mx.example",)"
                           R"("receiving-ip":"192.0.2.{}","sending-mta-ip":"198.51.100.7","failed-session-count":1}})",
                           i ? "," : "", i + 10);
  TlsrptSummary s;
  add_tlsrpt_report(
      s, "f",
      parse_tlsrpt_report(report_with(R"({"policy":{"policy-type":"sts","policy-domain":"example"},"summary":)"
                                      R"({"total-successful-session-count":75,"total-failure-session-count":25},)"
                                      R"("failure-details":[)" +
                                      details + "]}")));
  auto text = tlsrpt_summary_text(s);
  EXPECT_NE(text.find("to 192.0.2.10, 192.0.2.11, 192.0.2.12, 192.0.2.13, 192.0.2.14 and 20 more; from 198.51.100.7"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sts example: 25 failed of 100 sessions (25.0%)"), std::string::npos) << text;
  auto j = nlohmann::json::parse(tlsrpt_summary_json(s, "9.9"));
  EXPECT_EQ(j["danekit"], "9.9");
  const auto& r = j["policies"][0]["mx_hosts"][0]["results"][0];
  EXPECT_EQ(r["receiving_ips"].size(), 20u);
  EXPECT_EQ(r["receiving_ips_more"], 5);
  EXPECT_EQ(r["sending_ips_more"], 0);  // always there: shapes never depend on counts
  EXPECT_EQ(j["policies"][0]["failure_rate"], 0.25);
}

TEST(TlsrptSummary, EveryRfcResultTypeIsExplained) {
  for (const char* t : {"starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
                        "certificate-not-trusted", "validation-failure", "tlsa-invalid", "dnssec-invalid",
                        "dane-required", "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid"}) {
    const auto* info = find_tlsrpt_result_type(t);
    ASSERT_NE(info, nullptr) << t;
    EXPECT_FALSE(info->meaning.empty());
    EXPECT_FALSE(info->look_at.empty());
  }
  EXPECT_EQ(find_tlsrpt_result_type("certificate-revoked"), nullptr);
}

}  // namespace
}  // namespace danekit
