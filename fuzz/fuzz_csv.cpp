// libFuzzer target: the CSV reader (src/core/read_csv.cpp), delimiter sniffed.
#include "fuzz_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return crm_fuzz::read_all(data, size, crm::InputFormat::csv, ".csv");
}
