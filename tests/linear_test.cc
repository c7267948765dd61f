// Every parser a sender's bytes reach is linear in its input: instructions counted under
// valgrind (callgrind) for an input and one ten times its size; a quadratic parser takes
// about 100 times the work, a linear one about 10. Counts work, never time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "tests/test_util.h"

namespace mda {
namespace {

// Instructions mda_linear_probe executes for `kind` at `bytes` (callgrind's "Collected").
long long Instructions(const std::string& kind, size_t bytes) {
  // As ourselves: the probe stays in the build tree, which only we may be able to enter.
  test::Result r =
      test::ExecAs({"/usr/bin/valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                    MDA_LINEAR_PROBE, kind, std::to_string(bytes)},
                   {"PATH=/usr/bin:/bin"}, "", geteuid(), getegid());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  size_t at = r.output.find("Collected : ");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no instruction count from valgrind:\n" << r.output;
    return -1;
  }
  return std::atoll(r.output.c_str() + at + 12);
}

class LinearTest : public ::testing::TestWithParam<const char*> {};

TEST_P(LinearTest, TenTimesTheInputIsAboutTenTimesTheWork) {
#if defined(MDA_SANITIZED)
  GTEST_SKIP() << "valgrind does not run sanitized binaries; the release build runs this test";
#endif
  if (access("/usr/bin/valgrind", X_OK) != 0)
    FAIL() << "valgrind is missing: scripts/setup --for-tests installs it";
  const size_t small = 20000, large = 200000;
  long long base = Instructions(GetParam(), 0);
  long long a = Instructions(GetParam(), small);
  long long b = Instructions(GetParam(), large);
  ASSERT_GT(a, base);
  double ratio = static_cast<double>(b - base) / static_cast<double>(a - base);
  EXPECT_LT(ratio, 20.0) << GetParam() << ": " << (a - base) << " instructions for " << small
                         << " bytes, " << (b - base) << " for " << large << " bytes";
}

INSTANTIATE_TEST_SUITE_P(Parsers, LinearTest,
                         ::testing::Values("rfc2047-folded", "rfc2047-unbroken", "rfc2047-badword",
                                           "rfc2047-charsets", "address-comments", "address-quotes",
                                           "address-list", "mime-boundary", "mime-params",
                                           "attachment-params", "header-edit", "headers"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           std::string name = param.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace mda
