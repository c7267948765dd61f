// SipHash-2-4: a keyed 64-bit hash (Aumasson and Bernstein), for the duplicate store's keys.
#pragma once

#include <cstdint>
#include <string_view>

namespace mda {

// A keyed hash whose collisions nobody can aim at without the key: the duplicate store
// keeps a random key, so no crafted Message-ID can crowd out or match another's entry.
uint64_t SipHash24(uint64_t k0, uint64_t k1, std::string_view data);

}  // namespace mda
