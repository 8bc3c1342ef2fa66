// The text and JSON reports for pinned scenarios, compared byte for byte with
// files under tests/unit/golden/. After an intended change of output, rerun
// with DANEKIT_UPDATE_GOLDEN=1 and review the diff.
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

TEST(ReportGolden, MultiMxText) { expect_golden("multi-mx.txt", render_text(multi_mx().run("multi.example"), {})); }
TEST(ReportGolden, MultiMxColour) {
  expect_golden("multi-mx.ansi", render_text(multi_mx().run("multi.example"), {true}));
}
TEST(ReportGolden, MultiMxJson) { expect_golden("multi-mx.json", to_json(multi_mx().run("multi.example")) + "\n"); }
TEST(ReportGolden, BogusTlsaText) {
  expect_golden("bogus-tlsa.txt", render_text(bogus_tlsa().run("bogus.example"), {}));
}
TEST(ReportGolden, BogusTlsaJson) {
  expect_golden("bogus-tlsa.json", to_json(bogus_tlsa().run("bogus.example")) + "\n");
}
TEST(ReportGolden, UnusableText) { expect_golden("unusable.txt", render_text(unusable().run("unusable.example"), {})); }

}  // namespace
}  // namespace danekit
