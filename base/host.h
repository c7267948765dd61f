// Host: what makes a name unique to this host and moment (Maildir file names, Redis lease
// tokens): the host name and random bytes.
#pragma once

#include <cstddef>
#include <string>

namespace mda {

// gethostname(2), or "localhost" when there is none.
std::string HostName();

// Fills `buf` from getrandom(2) (`block`: wait for the kernel's pool at early boot). When the
// kernel gives none, a mix of the clock, the pid and a per-process counter: unique on this
// host, though not secret.
void RandomBytes(void* buf, size_t size, bool block);

}  // namespace mda
