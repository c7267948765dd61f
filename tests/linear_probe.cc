// A helper of linear_test.cc: runs one header parser once on a hostile input of a given size,
// so that the test can count the instructions it takes under valgrind.
//   mda_linear_probe KIND BYTES
#include <cstdio>
#include <cstdlib>
#include <string>

#include "rules/address.h"
#include "rules/body_text.h"
#include "rules/header_block.h"
#include "rules/rfc2047.h"

namespace {

std::string Repeat(const std::string& unit, size_t bytes) {
  std::string out;
  while (out.size() + unit.size() <= bytes) out += unit;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: mda_linear_probe KIND BYTES\n");
    return 2;
  }
  std::string kind = argv[1];
  size_t bytes = strtoul(argv[2], nullptr, 10);
  size_t result = 0;
  using namespace mda::rules;
  if (kind == "rfc2047-folded") {  // the review's Subject: folded "=?a?q?x", unfolded here
    result = DecodeRfc2047(Repeat("=?a?q?x ", bytes)).size();
  } else if (kind == "rfc2047-unbroken") {
    result = DecodeRfc2047(Repeat("=?a?q?x", bytes)).size();
  } else if (kind == "rfc2047-badword") {  // every word fails late: a bad hex pair before ?=
    result = DecodeRfc2047(Repeat("=?utf-8?q?=4", bytes) + "?=").size();
  } else if (kind == "rfc2047-charsets") {
    result = DecodeRfc2047(Repeat("=?x", bytes) + "?q?a?=").size();
  } else if (kind == "address-comments") {
    result =
        ParseAddresses(Repeat("(a", bytes)).size() + ParseAddresses(Repeat("a(b)<", bytes)).size();
  } else if (kind == "address-quotes") {
    result =
        ParseAddresses(Repeat("\"a\\", bytes)).size() + ParseAddresses(Repeat("[a,", bytes)).size();
  } else if (kind == "address-list") {
    result = ParseAddresses(Repeat("a <b@c>, ", bytes)).size();
  } else if (kind == "mime-boundary") {  // a long boundary and a body of near-delimiters
    std::string boundary(150, 'b');
    std::string message = "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\n\n" +
                          Repeat("--" + boundary.substr(0, 149) + "x\n", bytes);
    result = BodyText(message, 1 << 20).size();
  } else if (kind == "mime-params") {  // a Content-Type full of near-miss parameter names
    std::string message = "Content-Type: multipart/mixed;" + Repeat(" xboundary=1;", bytes) +
                          " boundary=z\n\n--z\n\nhi\n--z--\n";
    result = BodyText(message, 1 << 20).size();
  } else if (kind == "attachment-params") {  // near-miss RFC 2231 sections, escaped quotes
    std::string message =
        "Content-Type: multipart/mixed; boundary=z\n\n--z\n"
        "Content-Disposition: attachment;" +
        Repeat(" filename*12345*=%41;", bytes / 2) + " filename=\"" + Repeat("\\\"", bytes / 2) +
        "\"\n\nx\n--z--\n";
    result = AttachmentNames(message).size();
  } else if (kind == "header-edit") {  // many fields, each removed with its continuations
    std::string message = Repeat("X-A: 1\n folded\nX-B: 2\n", bytes) + "\nbody\n";
    std::string line = "X-A: new";
    result = EditHeader(message, "x-a", &line).size();
  } else if (kind == "headers") {
    std::string message = Repeat("Subject: x\n", bytes) + Repeat(" folded\n", bytes) + "\n";
    HeaderBlock h(message);
    result = h.Find("Subject").size();
  } else {
    fprintf(stderr, "mda_linear_probe: unknown kind %s\n", kind.c_str());
    return 2;
  }
  printf("%zu\n", result);
  return 0;
}
