// The scan input reader: what counts as a domain, a comment or a bad line, the
// line numbers it reports, and that hostile input ends with an error, not a hang.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cstdlib>
#include <string>
#include <vector>

#include "scan/input_reader.h"

namespace danekit::scan {
namespace {

struct TempFile {
  std::string path;
  int fd = -1;
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/danekit-scan-input-XXXXXX";
    fd = ::mkstemp(name);
    path = name;
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::lseek(fd, 0, SEEK_SET);
  }
  ~TempFile() {
    ::close(fd);
    ::unlink(path.c_str());
  }
};

struct Read {
  std::vector<InputLine> lines;
  std::string error;
  std::uint64_t total = 0;
};

Read read_all(const std::string& content) {
  TempFile f(content);
  DomainReader r(f.fd);
  Read out;
  while (true) {
    auto l = r.next();
    if (!l) {
      out.error = l.error();
      break;
    }
    if (!*l) break;
    out.lines.push_back(**l);
  }
  out.total = r.lines();
  return out;
}

TEST(ScanInput, SkipsBlankAndCommentLinesAndNumbersEveryPhysicalLine) {
  auto r = read_all("# a list\n\nexample.org\n   \n  Mail.Example.NET.  # trailing comment\r\n\t\nlast.example");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[0].number, 3u);
  EXPECT_EQ(r.lines[0].domain, "example.org");
  EXPECT_EQ(r.lines[1].number, 5u);
  EXPECT_EQ(r.lines[1].domain, "mail.example.net");
  EXPECT_EQ(r.lines[2].number, 7u);  // no newline at the end: still a line
  EXPECT_EQ(r.lines[2].domain, "last.example");
  EXPECT_EQ(r.total, 7u);
}

TEST(ScanInput, AcceptsInternationalizedNames) {
  auto r = read_all(
      "b\xc3\xbc"
      "cher.example\n");
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].domain, "xn--bcher-kva.example");
  EXPECT_FALSE(r.lines[0].bad());
}

TEST(ScanInput, ReportsBadLinesWithTheirNumbersAndGoesOn) {
  std::string input = std::string("good.example\n")      // 1
                      + "two fields.example\n"           // 2
                      + "-bad-.example\n"                // 3
                      + "a..b.example\n"                 // 4
                      + "nul" + '\0' + "byte.example\n"  // 5
                      + "\xff\xfe.example\n"             // 6
                      + "after.example\n";               // 7
  auto r = read_all(input);
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.lines.size(), 7u);
  EXPECT_FALSE(r.lines[0].bad());
  for (std::size_t i = 1; i <= 5; ++i) {
    EXPECT_TRUE(r.lines[i].bad()) << i;
    EXPECT_EQ(r.lines[i].number, i + 1);
    EXPECT_TRUE(r.lines[i].domain.empty());
  }
  EXPECT_NE(r.lines[1].error.find("several fields"), std::string::npos) << r.lines[1].error;
  EXPECT_NE(r.lines[4].error.find("NUL"), std::string::npos) << r.lines[4].error;
  EXPECT_EQ(r.lines[6].domain, "after.example");
  EXPECT_EQ(r.lines[6].number, 7u);
}

TEST(ScanInput, ErrorsArePrintableAscii) {
  auto r = read_all("ex\x01\x1b[31mample.example\n");
  ASSERT_EQ(r.lines.size(), 1u);
  ASSERT_TRUE(r.lines[0].bad());
  for (unsigned char c : r.lines[0].error) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << r.lines[0].error;
}

TEST(ScanInput, LongLinesAreBadAndBounded) {
  std::string input = std::string(kMaxLineBytes + 1, 'a') + "\n" + std::string(200000, 'b') + ".example\nok.example\n";
  auto r = read_all(input);
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_TRUE(r.lines[0].bad());
  EXPECT_NE(r.lines[0].error.find("longer than 1024"), std::string::npos);
  EXPECT_TRUE(r.lines[1].bad());
  EXPECT_EQ(r.lines[1].number, 2u);
  EXPECT_EQ(r.lines[2].domain, "ok.example");
  EXPECT_EQ(r.lines[2].number, 3u);
  // A line of exactly the limit is read (and here refused by the name rules).
  auto exact = read_all(std::string(kMaxLineBytes, 'a') + "\n");
  ASSERT_EQ(exact.lines.size(), 1u);
  EXPECT_EQ(exact.lines[0].error.find("longer than"), std::string::npos);
}

TEST(ScanInput, ARunawayLineEndsTheInput) {
  // Like /dev/zero: NULs and no newline.
  auto r = read_all(std::string(kMaxRunawayBytes + 70000, '\0'));
  EXPECT_TRUE(r.lines.empty());
  EXPECT_NE(r.error.find("no end within"), std::string::npos) << r.error;
}

TEST(ScanInput, DevZeroEndsWithAnError) {
  int fd = ::open("/dev/zero", O_RDONLY);
  ASSERT_GE(fd, 0);
  DomainReader r(fd);
  auto l = r.next();
  ::close(fd);
  ASSERT_FALSE(l.has_value());
  EXPECT_LE(r.bytes(), kMaxRunawayBytes + 65536);
}

TEST(ScanInput, OpenRefusesDirectoriesAndMissingFiles) {
  auto dir = open_input("/tmp");
  ASSERT_FALSE(dir.has_value());
  EXPECT_EQ(dir.error(), "input '/tmp': is a directory");
  auto missing = open_input("/nonexistent/list.txt");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error(), "input '/nonexistent/list.txt': No such file or directory");
  auto in = open_input("-");
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(*in, STDIN_FILENO);
}

TEST(ScanInput, DigestFollowsTheBytes) {
  auto digest = [](const std::string& content) {
    TempFile f(content);
    DomainReader r(f.fd);
    r.enable_digest();
    while (true) {
      auto l = r.next();
      if (!l || !*l) break;
    }
    return r.digest();
  };
  std::string big(300000, 'x');
  EXPECT_EQ(digest("a.example\n"), digest("a.example\n"));
  EXPECT_NE(digest("a.example\n"), digest("a.example\nb.example\n"));
  EXPECT_NE(digest(big + "a"), digest(big + "b"));
  EXPECT_EQ(digest(big), digest(big));
  EXPECT_EQ(digest("").size(), 64u);
}

}  // namespace
}  // namespace danekit::scan
