// Tests of BodyText: the text a body test searches.
#include "rules/body_text.h"

#include <gtest/gtest.h>

#include "rules/mime_codec.h"

namespace mda::rules {
namespace {

TEST(BodyTextTest, Table) {
  struct Case {
    std::string message, text;
  } cases[] = {
      {"Subject: x\n\nplain body\n", "plain body\n"},
      {"Subject: x\r\n\r\ncrlf body\r\n", "crlf body\r\n"},
      {"Subject: headers only", ""},
      {"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: "
       "quoted-printable\n\ncaf=E9 soft=\n break\n",
       "caf\xc3\xa9 soft break\n"},
      {"Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n", ""},
      {"Content-Type: multipart/mixed; boundary=\"b\"\n\npreamble\n--b\nContent-Type: "
       "text/plain\n\nfirst part\n--b\n"
       "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b\n"
       "Content-Type: text/plain; charset=utf-8\nContent-Disposition: attachment; "
       "filename=a.txt\n\nattached text\n--b\n"
       "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: "
       "base64\n\nPGI+aHRtbDwvYj4=\n--b--\n",
       "first part\n<b>html</b>"},
      {"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: "
       "multipart/alternative; boundary=i\r\n\r\n"
       "--i\r\nContent-Type: text/plain\r\n\r\nnested\r\n--i--\r\n--o--\r\n",
       "nested"},
      {"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: "
       "inner\n\ninner text\n--b--\n",
       "inner text"},
  };
  for (const Case& c : cases) {
    std::string text = BodyText(c.message, 1 << 20);
    // Compared without trailing line breaks (a part's last line break may be its own).
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    std::string want = c.text;
    while (!want.empty() && (want.back() == '\n' || want.back() == '\r')) want.pop_back();
    EXPECT_EQ(text, want) << c.message;
  }
}

TEST(BodyTextTest, MultipartDelimitersAsRfc2046Says) {
  struct Case {
    const char* name;
    std::string message, text;
  } cases[] = {
      {"no closing delimiter: the last part runs to the end",
       "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo", "one\ntwo"},
      {"a boundary in mid-line is text",
       "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nsee --b here\n--b--\n", "see --b here"},
      {"a longer boundary is not ours",
       "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--bx\nstill one\n--b--\n",
       "one\n--bx\nstill one"},
      {"blanks after a delimiter (transport padding)",
       "Content-Type: multipart/mixed; boundary=b\n\n--b \t\n\none\n--b-- \n", "one"},
      {"the line break before a delimiter belongs to it",
       "Content-Type: multipart/mixed; "
       "boundary=b\r\n\r\n--b\r\n\r\na\r\n\r\n--b\r\n\r\nb\r\n--b--\r\n",
       "a\r\n\nb"},
      {"preamble and epilogue are not text",
       "Content-Type: multipart/mixed; boundary=b\n\npreamble\n--b\n\nbody\n--b--\nepilogue\n",
       "body"},
      {"multipart without a boundary has no parts", "Content-Type: multipart/mixed\n\n--b\n\nx\n",
       ""},
      {"a part without a header is text/plain",
       "Content-Type: multipart/mixed; boundary=\"q q\"\n\n--q q\n\nplain\n--q q--\n", "plain"},
  };
  for (const Case& c : cases) {
    std::string text = BodyText(c.message, 1 << 20);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    EXPECT_EQ(text, c.text) << c.name;
  }
}

TEST(BodyTextTest, Bounded) {
  std::string m = "Subject: big\n\n" + std::string(5 << 20, 'x');
  EXPECT_EQ(BodyText(m, 1 << 20).size(), 1u << 20);
}

TEST(BodyTextTest, HostileStructuresTerminate) {
  // Deep nesting, a lone CR before a boundary (mimetic crashed on that), NULs.
  std::string deep = "Content-Type: multipart/mixed; boundary=b0\n\n";
  for (int i = 0; i < 200; ++i) {
    deep += "--b" + std::to_string(i) + "\nContent-Type: multipart/mixed; boundary=b" +
            std::to_string(i + 1) + "\n\n";
  }
  deep += "--b200\nContent-Type: text/plain\n\ndeep\n";
  BodyText(deep, 1 << 20);  // must return
  std::string cr =
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n\r--b--\n";
  BodyText(cr, 1 << 20);
  std::string nul("Content-Type: text/plain\n\na\0b", 29);
  EXPECT_EQ(BodyText(nul, 1 << 20), std::string("a\0b", 3));
}

TEST(BodyTextTest, NestingBeyondTheBoundIsNotFollowed) {
  // 20 000 nested multiparts: followed 16 deep, then ignored. Without the bound the walk
  // would recurse 20 000 frames deep and rescan the message at each level.
  std::string m = "Content-Type: multipart/mixed; boundary=b0\n\n";
  for (int i = 0; i < 20000; ++i) {
    m += "--b" + std::to_string(i) + "\nContent-Type: multipart/mixed; boundary=b" +
         std::to_string(i + 1) + "\n\n";
  }
  m += "--b20000\nContent-Type: text/plain\n\ntoo deep to read\n";
  EXPECT_EQ(BodyText(m, 1 << 20), "");
  std::string shallow =
      "Content-Type: multipart/mixed; boundary=b0\n\n--b0\nContent-Type: multipart/mixed; "
      "boundary=b1\n\n--b1\nContent-Type: text/plain\n\nread\n";
  EXPECT_EQ(BodyText(shallow, 1 << 20), "read\n");
}

TEST(QuotedPrintableTest, Table) {
  EXPECT_EQ(DecodeQuotedPrintable("a=3Db"), "a=b");
  EXPECT_EQ(DecodeQuotedPrintable("soft=\r\nbreak"), "softbreak");
  EXPECT_EQ(DecodeQuotedPrintable("bad=ZZ end="), "bad=ZZ end=");
}

}  // namespace
}  // namespace mda::rules
