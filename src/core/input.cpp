#include "input.hpp"

#include <crm/error.hpp>

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace crm {

namespace {
constexpr std::size_t k_block = 256 * 1024;
}

InputSource::InputSource(const std::string& path) : m_name(path) {
  if (path == "-") {
    m_fd = STDIN_FILENO;
    return;
  }
  m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m_fd < 0)
    throw Error(Exit::no_input, fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  m_owned = true;
}

InputSource::~InputSource() {
  if (m_owned)
    ::close(m_fd);
}

// Makes at least `want` unconsumed bytes available unless the input ends.
bool InputSource::fill(std::size_t want) {
  while (m_buffer.size() - m_start < want && !m_eof) {
    if (m_start > 0 && m_start >= m_buffer.size() / 2) {
      m_buffer.erase(0, m_start);
      m_start = 0;
    }
    std::size_t old = m_buffer.size();
    m_buffer.resize(old + k_block);
    ssize_t n = ::read(m_fd, m_buffer.data() + old, k_block);
    if (n < 0) {
      m_buffer.resize(old);
      if (errno == EINTR)
        continue;
      throw Error(Exit::io, fmt::format("cannot read '{}': {}", m_name, std::strerror(errno)));
    }
    m_buffer.resize(old + static_cast<std::size_t>(n));
    m_counter->fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
    if (n == 0)
      m_eof = true;
  }
  return m_buffer.size() > m_start;
}

std::string_view InputSource::peek(std::size_t n) {
  fill(n);
  return std::string_view(m_buffer).substr(m_start, n);
}

std::string_view InputSource::read(std::size_t max) {
  if (m_start == m_buffer.size()) {
    m_buffer.clear();
    m_start = 0;
  }
  fill(1);
  std::string_view out = std::string_view(m_buffer).substr(m_start, max);
  m_start += out.size();
  return out;
}

std::string_view InputSource::read_line() {
  if (m_start == m_buffer.size()) {
    m_buffer.clear();
    m_start = 0;
  }
  // Search only the bytes not searched yet while the buffer grows.
  std::size_t searched = 0;
  std::size_t newline = std::string::npos;
  while (true) {
    newline = m_buffer.find('\n', m_start + searched);
    if (newline != std::string::npos || m_eof)
      break;
    searched = m_buffer.size() - m_start;
    fill(searched + k_block);
  }
  std::size_t end = newline == std::string::npos ? m_buffer.size() : newline + 1;
  std::string_view line = std::string_view(m_buffer).substr(m_start, end - m_start);
  m_start = end;
  return line;
}

} // namespace crm
