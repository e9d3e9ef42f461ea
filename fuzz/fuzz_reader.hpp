#pragma once

#include "fuzz_input.hpp"

#include <crm/readers.hpp>

namespace crm_fuzz {

// Reads every record of the input in `format`; the records are checked for
// the reader's promises (csv/tsv: one value per column or an error).
inline int read_all(const std::uint8_t* data, std::size_t size, crm::InputFormat format,
                    const char* suffix) {
  const std::string& path = write_input(data, size, suffix);
  crm::ReaderOptions options;
  options.format = format;
  try {
    auto reader = crm::open_reader(path, options);
    crm::InputRecord record;
    std::size_t records = 0;
    while (reader->next(record)) {
      if (++records > 1000000) {
        std::abort(); // more records than bytes: the reader does not advance
      }
      const bool tabular = format == crm::InputFormat::csv || format == crm::InputFormat::tsv;
      if (tabular && record.error.empty() && record.values.size() != reader->columns().size()) {
        std::abort();
      }
    }
  } catch (const crm::Error& e) {
    check_error(e);
  }
  return 0;
}

} // namespace crm_fuzz
