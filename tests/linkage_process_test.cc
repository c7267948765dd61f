// What the real mda binary loads at run time when linked statically: glibc's iconv modules
// (legacy charsets in encoded words) and the passwd database (no HOME from Exim). Both go
// through glibc's dlopen from the installed libc6; a broken static link shows here.
#include <gtest/gtest.h>
#include <iconv.h>
#include <pwd.h>
#include <sys/stat.h>

#include <string>

#include "tests/test_util.h"

namespace mda {
namespace {

TEST(LinkageProcessTest, DecodesLegacyCharsetsThroughTheInstalledIconvModules) {
  test::TempDir home;
  test::MakeDirs(home / ".mda");
  chmod((home / ".mda").c_str(), 0700);
  test::WriteFile(home / ".mda/rules", "if Subject: contains \"Привет\" then folder Cyrillic\n");
  chmod((home / ".mda/rules").c_str(), 0600);
  // ISO-8859-1, KOI8-R and Shift_JIS: three gconv modules, none built into libc.
  const std::string message =
      "Message-ID: <charsets@example.org>\n"
      "Subject: =?ISO-8859-1?Q?caf=E9?= =?koi8-r?B?8NLJ18XU?= =?Shift_JIS?B?g2WDWINn?=\n\nbody\n";
  test::Result r = test::Exec({test::MdaBinary()},
                              {"HOME=" + home.path(), "RECIPIENT=bob@example.com"}, message);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(test::ListDir(home / "Maildir/.Cyrillic/new").size(), 1u);
  std::vector<test::LogFields> log = test::ReadLog(home / ".mda/log");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(test::Get(log[0], "subject"), "caféПриветテスト");
}

// `utf8` in `charset`, by this (dynamically linked) test's own iconv; "" if it cannot.
std::string Encode(const std::string& utf8, const char* charset) {
  iconv_t cd = iconv_open(charset, "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) return "";
  std::string in = utf8, out(utf8.size() * 8 + 16, '\0');
  char* ip = in.data();
  char* op = out.data();
  size_t il = in.size(), ol = out.size();
  size_t rc = iconv(cd, &ip, &il, &op, &ol);
  if (rc != static_cast<size_t>(-1))
    rc = iconv(cd, nullptr, nullptr, &op, &ol);  // stateful: back to ASCII
  iconv_close(cd);
  if (rc == static_cast<size_t>(-1) || il != 0) return "";
  out.resize(out.size() - ol);
  return out;
}

std::string Base64(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

TEST(LinkageProcessTest, EveryCommonMailCharsetDecodes) {
  // Each charset loads its own gconv module (or is built in) inside the static binary.
  struct Case {
    const char* charset;
    std::string text;
  } cases[] = {
      {"ISO-8859-1",
       "Ça coûte 5 €? Non: déjà payé"},  // no euro sign in Latin-1: the encoder fails, skipped
      {"ISO-8859-1", "déjà vu, naïve façade"},
      {"ISO-8859-2", "Zażółć gęślą jaźń"},
      {"ISO-8859-5", "Съешь же ещё"},
      {"ISO-8859-7", "Καλημέρα κόσμε"},
      {"ISO-8859-9", "Ağaç işleri çok güzel"},
      {"ISO-8859-15", "Prix: 5 € œuvre"},
      {"windows-1250", "Příliš žluťoučký kůň"},
      {"windows-1251", "Привет, мир"},
      {"windows-1252", "“Smart” quotes – and €"},
      {"KOI8-R", "Привет"},
      {"KOI8-U", "Привіт, ґанок"},
      {"Shift_JIS", "日本語のテスト"},
      {"EUC-JP", "日本語のテスト"},
      {"ISO-2022-JP", "日本語のテスト"},
      {"GB2312", "简体中文测试"},
      {"GBK", "简体中文测试"},
      {"GB18030", "简体中文测试 😀"},
      {"Big5", "繁體中文測試"},
      {"EUC-KR", "한국어 시험"},
      {"UTF-7", "Hi Mom -☺-!"},
      {"UTF-16", "Grüße 😀"},
      {"TIS-620", "ภาษาไทย"},
  };
  int tried = 0;
  for (const Case& c : cases) {
    std::string bytes = Encode(c.text, c.charset);
    if (bytes.empty()) continue;
    ++tried;
    test::TempDir home;
    std::string message =
        "Subject: =?" + std::string(c.charset) + "?B?" + Base64(bytes) + "?=\n\nbody\n";
    test::Result r = test::Exec({test::MdaBinary()},
                                {"HOME=" + home.path(), "RECIPIENT=bob@example.com"}, message);
    ASSERT_EQ(r.exit_code, 0) << c.charset << ": " << r.output;
    std::vector<test::LogFields> log = test::ReadLog(home / ".mda/log");
    ASSERT_EQ(log.size(), 1u) << c.charset;
    EXPECT_EQ(test::Get(log[0], "subject"), c.text) << c.charset;
  }
  EXPECT_EQ(tried, 22);
}

TEST(LinkageProcessTest, FindsTheAccountInThePasswdDatabase) {
  // No HOME, LOCAL_PART or RECIPIENT (mda run by hand, or a router without
  // check_local_user): the user's name comes from getpwuid.
  struct passwd* pw = getpwuid(test::TestUid());
  ASSERT_NE(pw, nullptr);
  std::string name = pw->pw_name;
  test::TempDir dir;
  test::WriteFile(dir / "rules", "set log = " + (dir / "log") + "\n");
  chmod((dir / "rules").c_str(), 0600);
  test::Result r =
      test::Exec({test::MdaBinary(), "--rules", dir / "rules", "--maildir", dir / "box"},
                 {"PATH=/usr/bin:/bin"}, "Subject: x\n\nbody\n");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(test::ListDir(dir / "box/new").size(), 1u);
  std::vector<test::LogFields> log = test::ReadLog(dir / "log");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(test::Get(log[0], "recipient"), name);
}

}  // namespace
}  // namespace mda
