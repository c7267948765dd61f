// SHA-256 (FIPS 180-4), for naming long duplicate keys in a shared store.
#pragma once

#include <string>
#include <string_view>

namespace mda {

// The digest of `data`, as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

}  // namespace mda
