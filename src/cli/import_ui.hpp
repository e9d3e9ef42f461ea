#pragma once
// What an import shows on stderr: rejected rows without --rejects, and the
// progress line. Shared by every command that imports a file.

#include <crm/readers.hpp>
#include <crm/rejects.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>

namespace crm::cli {

// Without --rejects: one stderr line per reject, at most 20, then a count.
class StderrRejects : public RejectSink {
public:
  explicit StderrRejects(bool quiet) : m_quiet(quiet) {}
  void reject(const RecordReader&, const InputRecord& record, std::string_view reason) override {
    if (++m_count <= k_shown && !m_quiet)
      std::cerr << fmt::format("crm: line {}: {}\n", record.line, reason);
  }
  void finish() const {
    if (m_count > k_shown && !m_quiet)
      std::cerr << fmt::format("crm: {} more rejected rows (write them all with --rejects FILE)\n",
                               m_count - k_shown);
  }

private:
  static constexpr std::size_t k_shown = 20;
  bool m_quiet;
  std::size_t m_count = 0;
};

// A one-line progress display, redrawn at most 10 times a second, only when
// stderr is a terminal (or --progress always): rows, rate, and for a file of
// known size the share read and the time left ("ETA"), estimated from the
// bytes read so far at the rate so far.
class Progress {
public:
  Progress(bool on, std::uint64_t total_bytes)
      : m_on(on), m_total(total_bytes), m_start(std::chrono::steady_clock::now()) {}
  void update(std::size_t rows, std::uint64_t bytes) {
    if (!m_on)
      return;
    auto now = std::chrono::steady_clock::now();
    if (now - m_last < std::chrono::milliseconds(100))
      return;
    m_last = now;
    double seconds = std::chrono::duration<double>(now - m_start).count();
    std::string line = fmt::format("importing: {} rows, {:.0f} rows/s", rows,
                                   seconds > 0 ? static_cast<double>(rows) / seconds : 0.0);
    if (m_total > 0 && bytes > 0) {
      double done = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(m_total));
      auto left = static_cast<long>(seconds * (1.0 - done) / done + 0.5);
      line += fmt::format(", {:.0f}%, ETA {}:{:02}:{:02}", done * 100.0, left / 3600,
                          left / 60 % 60, left % 60);
    }
    std::cerr << "\r\x1b[K" << line << std::flush;
    m_drawn = true;
  }
  void clear() {
    if (m_drawn)
      std::cerr << "\r\x1b[K" << std::flush;
  }

private:
  bool m_on;
  std::uint64_t m_total; // bytes; 0: unknown
  bool m_drawn = false;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last{};
};

} // namespace crm::cli
