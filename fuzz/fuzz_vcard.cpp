// libFuzzer target: the vCard reader (src/core/read_vcard.cpp).
#include "fuzz_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return crm_fuzz::read_all(data, size, crm::InputFormat::vcard, ".vcf");
}
