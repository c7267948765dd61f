// Tests of Message: reading whole messages from descriptors and the mbox From_ line.
#include "mda/message.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "tests/test_util.h"

namespace mda {
namespace {

TEST(FromLineTest, Table) {
  struct Case {
    std::string input;
    size_t expected;
  } cases[] = {
      {"From a@b Wed Nov 25 04:28:04 2026\nX: y\n", 34},
      {"From a@b Wed Nov 25 04:28:04 2026\r\nX: y\n", 35},
      {"From MAILER-DAEMON Wed Nov 25 04:28:04 2026\n", 44},
      {"From a@b Wed Nov 25 04:28:04 2026", 33},  // nothing but the From_ line
      {"From: a@b\n", 0},                         // a header, not a From_ line
      {"From : a@b\n", 0},                        // obsolete header syntax
      {"From\t: a@b\n", 0},
      {">From a@b\n", 0},
      {"from a@b x\n", 0},  // the mbox separator is case-sensitive
      {"", 0},
      {"From", 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FromLineLength(c.input), c.expected) << c.input;
  }
}

TEST(MessageTest, FromBytesStripsFromLineAndKeepsIt) {
  Message m = Message::FromBytes("From s@x Wed Nov 25 04:28:04 2026\r\nSubject: a\r\n\r\nb");
  EXPECT_EQ(m.content(), "Subject: a\r\n\r\nb");
  EXPECT_EQ(m.from_line(), "From s@x Wed Nov 25 04:28:04 2026");
}

TEST(MessageTest, EmptyMessage) {
  Message m = Message::FromBytes("");
  EXPECT_EQ(m.content(), "");
  EXPECT_EQ(m.from_line(), "");
  Message none;
  EXPECT_EQ(none.content(), "");
}

TEST(MessageTest, ReadsLargeInputThroughPipeByteForByte) {
  std::string data;
  for (int i = 0; data.size() < 5 * 1024 * 1024 + 17; ++i) {
    data += static_cast<char>(i * 7);  // every byte value, NULs included
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::thread writer([&] {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = write(fds[1], data.data() + done, std::min<size_t>(data.size() - done, 3000));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fds[1]);
  });
  Message m;
  Status s = Message::Read(PosixFs(), fds[0], "pipe", &m);
  writer.join();
  close(fds[0]);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(m.content().size(), data.size());
  EXPECT_TRUE(m.content() == data);
}

TEST(MessageTest, ReadsRegularFile) {
  test::TempDir dir;
  std::string content = "From x Wed Nov 25 04:28:04 2026\nSubject: s\n\nbody";
  test::WriteFile(dir / "m", content);
  int fd = open((dir / "m").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  Message m;
  Status s = Message::Read(PosixFs(), fd, "m", &m);
  close(fd);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(m.content(), "Subject: s\n\nbody");
}

TEST(MessageTest, ReadErrorNamesSourceAndCause) {
  Message m;
  Status s = Message::Read(PosixFs(), -1, "the message on standard input", &m);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "cannot read the message on standard input: Bad file descriptor");
}

}  // namespace
}  // namespace mda
