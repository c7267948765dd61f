// Fuzz target: the RFC 5322 address parser (mimetic's crashed on groups; ours must not).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mda::rules::ParseAddresses(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
