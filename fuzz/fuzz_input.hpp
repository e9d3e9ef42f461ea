#pragma once

// Helpers shared by the libFuzzer targets: the readers and the config loader
// take a path, so each input is written to one temporary file per process.

#include <crm/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace crm_fuzz {

// The temporary file of this process (removed at exit), named with `suffix`.
inline const std::string& temp_path(const char* suffix) {
  static const std::string path = [suffix] {
    const char* dir = std::getenv("TMPDIR");
    std::string p = std::string(dir && *dir ? dir : "/tmp") + "/crm-fuzz-" +
                    std::to_string(::getpid()) + suffix;
    std::atexit([] { std::remove(temp_path("").c_str()); });
    return p;
  }();
  return path;
}

// Writes the fuzzer's bytes to the temporary file; returns its path.
inline const std::string& write_input(const std::uint8_t* data, std::size_t size,
                                      const char* suffix) {
  const std::string& path = temp_path(suffix);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    std::abort();
  }
  if (size > 0 && std::fwrite(data, 1, size, f) != size) {
    std::abort();
  }
  std::fclose(f);
  return path;
}

// An Error is the expected answer to bad input; any other exception is a bug.
inline void check_error(const crm::Error& e) {
  const auto code = e.code();
  if (code == crm::Exit::internal) {
    std::abort();
  }
}

} // namespace crm_fuzz
