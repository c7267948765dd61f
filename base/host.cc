// Host: the host name and random bytes.
#include "base/host.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace mda {

std::string HostName() {
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  host[sizeof host - 1] = '\0';
  return host[0] != '\0' ? host : "localhost";
}

void RandomBytes(void* buf, size_t size, bool block) {
  if (getrandom(buf, size, block ? 0 : GRND_NONBLOCK) == static_cast<ssize_t>(size)) return;
  static uint64_t counter = 0;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  auto* out = static_cast<unsigned char*>(buf);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t mix = (static_cast<uint64_t>(now.tv_nsec) << 20) ^ static_cast<uint64_t>(now.tv_sec) ^
                   static_cast<uint64_t>(getpid()) ^ (++counter * 0x9E3779B97F4A7C15ull);
    std::memcpy(out + i, &mix, size - i < 8 ? size - i : 8);
  }
}

}  // namespace mda
