// Tests of Status: kinds and the strerror-carrying message.
#include "base/status.h"

#include <errno.h>
#include <gtest/gtest.h>

namespace mda {
namespace {

TEST(StatusTest, DefaultIsOk) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status::Ok().kind(), Status::Kind::kOk);
}

TEST(StatusTest, PosixNamesContextAndCause) {
  Status s = Status::Posix("cannot write /x/tmp/1", ENOSPC);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), Status::Kind::kTemporary);
  EXPECT_EQ(s.message(), "cannot write /x/tmp/1: No space left on device");
}

TEST(StatusTest, BadInputKeepsMessage) {
  Status s = Status::BadInput("unknown option '--x'");
  EXPECT_EQ(s.kind(), Status::Kind::kBadInput);
  EXPECT_EQ(s.message(), "unknown option '--x'");
}

TEST(StatusTest, BadInputAtKeepsItsPlaceApart) {
  Status s = Status::BadInputAt("rules:2:4", "expected a test\nif x\n   ^");
  EXPECT_EQ(s.kind(), Status::Kind::kBadInput);
  EXPECT_EQ(s.message(), "rules:2:4: expected a test\nif x\n   ^");
  EXPECT_EQ(s.location(), "rules:2:4");
  EXPECT_EQ(s.text(), "expected a test\nif x\n   ^");
  Status copy = s;  // the parts survive a copy
  EXPECT_EQ(copy.location(), "rules:2:4");
  // A failure of no particular place: no location, the text is the message.
  Status plain = Status::BadInput("rules: no such file");
  EXPECT_EQ(plain.location(), "");
  EXPECT_EQ(plain.text(), "rules: no such file");
}

}  // namespace
}  // namespace mda
