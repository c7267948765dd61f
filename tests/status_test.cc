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

}  // namespace
}  // namespace mda
