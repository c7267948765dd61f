// Tests of FirstNumber: the number numeric tests compare (man/mda-rules.5, the rule language).
#include "rules/number.h"

#include <gtest/gtest.h>

namespace mda::rules {
namespace {

TEST(FirstNumberTest, Table) {
  struct Case {
    std::string value;
    std::optional<double> number;
  } cases[] = {
      {"7.3", 7.3},
      {"-0.4", -0.4},
      {"+2", 2},
      {"0012.3", 12.3},
      {"5.00", 5.0},
      {"12.641", 12.641},
      {"Yes, score=7.3 required=5.0 tests=BAYES_99", 7.3},
      {"No, score=-1.2 required=5.0", -1.2},
      {"score: 5", 5},
      {"  42  ", 42},
      {"(3)", 3},
      {"7,3", std::nullopt},
      {"high", std::nullopt},
      {"1.2.3", std::nullopt},
      {"x-5", std::nullopt},
      {"abc5", std::nullopt},
      {"5abc", std::nullopt},
      {"5.", std::nullopt},
      {".5", std::nullopt},
      {"", std::nullopt},
      {"-", std::nullopt},
      {"1.2.3 then 4", 4},
      {"version 3.4.6 score 9", 9},
      {"caf\xc3\xa9"
       "5",
       std::nullopt},  // touching a non-ASCII letter
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FirstNumber(c.value), c.number) << c.value;
  }
}

}  // namespace
}  // namespace mda::rules
