#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace crm {

// Fills rows on a second thread while the caller's thread consumes them
// (the importers: reading and normalising on one core, writing to SQLite on
// the other). Rows come out in the order they were filled, in chunks that are
// reused, so their strings keep their capacity. `fill` runs on the second
// thread only; it returns false at the end of the input, and what it throws
// reaches the consumer from next(). With Threading::no, next() calls `fill`
// itself (readers whose columns change while they read).
template <class Row> class Prefetcher {
public:
  enum class Threading { no, yes };

  Prefetcher(std::function<bool(Row&)> fill, Threading threading, std::size_t chunk = 256,
             std::size_t chunks_ahead = 16)
      : m_fill(std::move(fill)), m_threaded(threading == Threading::yes), m_chunk(chunk),
        m_chunks_ahead(chunks_ahead) {
    if (m_threaded)
      m_thread = std::thread([this] { produce(); });
  }
  ~Prefetcher() {
    if (!m_threaded)
      return;
    {
      std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_changed.notify_all();
    m_thread.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The next row, or nullptr at the end. Valid until the next call.
  Row* next() {
    if (!m_threaded)
      return !m_done && m_fill(m_single) ? &m_single : (m_done = true, nullptr);
    if (m_index == m_current.size()) {
      std::unique_lock lock(m_mutex);
      if (!m_current.empty())
        m_free.push_back(std::move(m_current));
      m_current.clear();
      m_index = 0;
      m_changed.notify_all();
      m_changed.wait(lock, [&] { return !m_ready.empty() || m_done; });
      if (m_ready.empty()) {
        if (m_error)
          std::rethrow_exception(m_error);
        return nullptr;
      }
      m_current = std::move(m_ready.front());
      m_ready.pop_front();
      m_changed.notify_all();
    }
    return &m_current[m_index++];
  }

private:
  void produce() {
    try {
      std::vector<Row> chunk;
      bool more = true;
      while (more) {
        {
          std::unique_lock lock(m_mutex);
          m_changed.wait(lock, [&] { return m_ready.size() < m_chunks_ahead || m_stop; });
          if (m_stop)
            return;
          if (!m_free.empty()) {
            chunk = std::move(m_free.back());
            m_free.pop_back();
          }
        }
        chunk.resize(m_chunk);
        std::size_t n = 0;
        while (n < m_chunk && (more = m_fill(chunk[n])))
          ++n;
        chunk.resize(n);
        std::lock_guard lock(m_mutex);
        if (n > 0)
          m_ready.push_back(std::move(chunk));
        chunk.clear();
        m_changed.notify_all();
      }
    } catch (...) {
      std::lock_guard lock(m_mutex);
      m_error = std::current_exception();
    }
    std::lock_guard lock(m_mutex);
    m_done = true;
    m_changed.notify_all();
  }

  std::function<bool(Row&)> m_fill;
  bool m_threaded;
  std::size_t m_chunk;
  std::size_t m_chunks_ahead;
  Row m_single{};
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<std::vector<Row>> m_ready;
  std::vector<std::vector<Row>> m_free;
  std::vector<Row> m_current; // the consumer's chunk
  std::size_t m_index = 0;
  bool m_done = false;
  bool m_stop = false;
  std::exception_ptr m_error;
  std::thread m_thread;
};

} // namespace crm
