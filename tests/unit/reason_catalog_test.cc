// The reason catalog is the one source of the codes: docs/reasons.md holds its
// tables verbatim, and every code the sources emit is in it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "policy/reason_catalog.h"

namespace danekit {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ReasonCatalog, CodesAreUniqueAndComplete) {
  std::set<std::string_view> seen;
  for (const auto& r : reason_catalog()) {
    EXPECT_TRUE(seen.insert(r.code).second) << "duplicate " << r.code;
    EXPECT_TRUE(r.group == "check" || r.group == "local" || r.group == "mta-sts") << r.code;
    EXPECT_TRUE(r.severity == "E" || r.severity == "W" || r.severity == "I" || r.severity == "I/W" ||
                r.severity == "E/W")
        << r.code;
    EXPECT_FALSE(r.meaning.empty()) << r.code;
    EXPECT_EQ(r.meaning.find('|'), std::string::npos) << r.code << ": a '|' breaks the markdown table";
    EXPECT_EQ(r.fix.find('|'), std::string::npos) << r.code;
  }
  EXPECT_NE(find_reason("dane-mismatch"), nullptr);
  EXPECT_EQ(find_reason("no-such-code"), nullptr);
}

// docs/reasons.md carries each group's table between markers, exactly as
// `danekit reasons --format markdown` writes it.
TEST(ReasonCatalog, TheDocsHoldTheCatalogsTables) {
  auto doc = slurp(std::filesystem::path(DANEKIT_SOURCE_DIR) / "docs" / "reasons.md");
  ASSERT_FALSE(doc.empty());
  for (std::string group : {"check", "local", "mta-sts"}) {
    std::string open = "<!-- reasons:" + group + " -->\n", close = "<!-- /reasons:" + group + " -->";
    auto a = doc.find(open), b = doc.find(close);
    ASSERT_NE(a, std::string::npos) << "docs/reasons.md lacks " << open;
    ASSERT_NE(b, std::string::npos) << "docs/reasons.md lacks " << close;
    EXPECT_EQ(doc.substr(a + open.size(), b - a - open.size()), reason_table_markdown(group))
        << "docs/reasons.md differs from the catalog: run `danekit reasons --format markdown` and paste the " << group
        << " table";
  }
}

// Every literal code handed to make_reason() (or set as a local cause's code)
// anywhere in src/ is a catalog entry.
TEST(ReasonCatalog, EveryCodeTheSourcesEmitIsInTheCatalog) {
  const std::regex call(R"re(make_reason\(\s*([^,]*?),)re");
  const std::regex literal(R"re("([a-z0-9-]+)")re");
  const std::regex local_code(R"re(r\.code = "([a-z0-9-]+)";)re");
  std::set<std::string> emitted;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(std::filesystem::path(DANEKIT_SOURCE_DIR) / "src")) {
    if (e.path().extension() != ".cc") continue;
    if (e.path().parent_path().filename() == "dnssec" || e.path().filename() == "reason_catalog.cc") continue;
    auto text = slurp(e.path());
    for (std::sregex_iterator it(text.begin(), text.end(), call), end; it != end; ++it) {
      std::string arg = (*it)[1];
      for (std::sregex_iterator l(arg.begin(), arg.end(), literal); l != end; ++l) emitted.insert((*l)[1]);
    }
    for (std::sregex_iterator it(text.begin(), text.end(), local_code), end; it != end; ++it) emitted.insert((*it)[1]);
  }
  EXPECT_GT(emitted.size(), 30u) << "the scan found too few codes; did the sources move?";
  for (const auto& code : emitted) EXPECT_NE(find_reason(code), nullptr) << code << " is emitted but not catalogued";
  // local_reason() builds "local-" + cause for these causes.
  for (std::string cause : {"descriptors", "ports", "memory", "network"})
    EXPECT_NE(find_reason("local-" + cause), nullptr) << cause;
}

}  // namespace
}  // namespace danekit
