/* The floor: the least a safe Maildir delivery can do. Reads stdin, writes tmp/NAME,
 * fsyncs it, links it into new/, fsyncs new/, removes tmp/NAME. No parsing, no checks
 * beyond what is needed to not lie about success. Usage: floor MAILDIR < message */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) return 64;
  static char buf[1 << 20];
  size_t len = 0;
  ssize_t n;
  while ((n = read(0, buf + len, sizeof buf - len)) > 0) len += (size_t)n;
  char tmp[4096], new_[4096], name[256], dir[4096];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(name, sizeof name, "%ld.M%06ldP%d.floor", (long)ts.tv_sec, ts.tv_nsec / 1000, getpid());
  snprintf(tmp, sizeof tmp, "%s/tmp/%s", argv[1], name);
  snprintf(new_, sizeof new_, "%s/new/%s", argv[1], name);
  snprintf(dir, sizeof dir, "%s/new", argv[1]);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, buf, len) != (ssize_t)len || fsync(fd) != 0 || close(fd) != 0) return 75;
  if (link(tmp, new_) != 0) return 75;
  int d = open(dir, O_RDONLY | O_DIRECTORY);
  if (d < 0 || fsync(d) != 0) return 75;
  close(d);
  unlink(tmp);
  return 0;
}
