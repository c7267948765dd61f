// Fuzz target: the MIME walk and transfer/charset decoding behind `body` tests, and the
// attachment names behind `attachment` tests (RFC 2231 parameters, RFC 2047 words).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/body_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string text = mda::rules::BodyText(input, 1 << 16);
  if (text.size() > (1 << 16)) __builtin_trap();  // the limit holds
  std::vector<std::string> names = mda::rules::AttachmentNames(input);
  if (names.size() > 1000) __builtin_trap();  // so does this one
  for (const std::string& name : names) {
    if (name.empty()) __builtin_trap();  // a part without a name gives none
  }
  return 0;
}
