#pragma once

#include <crm/readers.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace crm {

// Buffered bytes from a file or stdin ("-"), read in large blocks.
class InputSource {
public:
  // Throws Error(Exit::no_input) if the file cannot be opened.
  explicit InputSource(const std::string& path);
  ~InputSource();
  InputSource(const InputSource&) = delete;
  InputSource& operator=(const InputSource&) = delete;

  // The next bytes, at least `n` unless the input ends first, without
  // consuming them. Valid until the next call.
  std::string_view peek(std::size_t n);
  // Up to `max` bytes (at least one unless at the end), consumed. Valid until
  // the next call. Empty at the end. Throws Error(Exit::io) on a read error.
  std::string_view read(std::size_t max);
  // The next line with its '\n' (the last line may have none), consumed;
  // empty at the end. Valid until the next call.
  std::string_view read_line();
  // The path as given ("-" for stdin).
  const std::string& name() const { return m_name; }
  // How many bytes were read from the file so far, for progress displays;
  // the counter may be read from another thread.
  std::shared_ptr<const std::atomic<std::uint64_t>> counter() const { return m_counter; }

private:
  bool fill(std::size_t want);
  std::string m_name;
  int m_fd = -1;
  bool m_owned = false;
  bool m_eof = false;
  std::string m_buffer;
  std::size_t m_start = 0;  // first unconsumed byte in m_buffer
  std::shared_ptr<std::atomic<std::uint64_t>> m_counter =
      std::make_shared<std::atomic<std::uint64_t>>(0);
};

// The readers, given an opened source. csv/tsv also handle the encoding
// (BOM, UTF-16, --encoding through iconv) and delimiter sniffing.
std::unique_ptr<RecordReader> make_csv_reader(std::unique_ptr<InputSource> source,
                                              InputFormat format, const ReaderOptions& options);
std::unique_ptr<RecordReader> make_json_reader(std::unique_ptr<InputSource> source,
                                               InputFormat format);
std::unique_ptr<RecordReader> make_vcard_reader(std::unique_ptr<InputSource> source);

} // namespace crm
