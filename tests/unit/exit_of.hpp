#pragma once

#include <crm/error.hpp>

#include <functional>

// The exit code of the crm::Error that `f` throws, or Exit::ok.
inline crm::Exit exit_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const crm::Error& e) {
    return e.code();
  }
  return crm::Exit::ok;
}
