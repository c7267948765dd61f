// Fuzz target: the top-level header parser and the RFC 2047 decoder on any bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/header_block.h"
#include "rules/number.h"
#include "rules/rfc2047.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view message(reinterpret_cast<const char*>(data), size);
  mda::rules::HeaderBlock headers(message);
  for (const mda::rules::HeaderField& field : headers.fields()) {
    std::string decoded = mda::rules::DecodeRfc2047(field.value);
    mda::rules::FirstNumber(decoded);
  }
  headers.Find("Subject");
  return 0;
}
