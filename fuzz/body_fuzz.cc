// Fuzz target: the MIME walk and transfer/charset decoding behind `body` tests.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/body_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text =
      mda::rules::BodyText(std::string_view(reinterpret_cast<const char*>(data), size), 1 << 16);
  if (text.size() > (1 << 16)) __builtin_trap();  // the limit holds
  return 0;
}
