#pragma once

#include <stdexcept>
#include <string>

namespace crm {

// The exit codes of SPEC.md section 3.
enum class Exit : int {
  ok = 0,
  no = 1,           // a predicate answered no, or a check found a problem
  not_found = 2,    // a name given on the command line does not exist
  usage = 64,       // unknown option, missing argument
  data = 65,        // bad input data, invalid value, conflict, refused action
  no_input = 66,    // an input file cannot be opened
  internal = 70,    // a bug
  cant_create = 73, // an output file cannot be created
  io = 74,          // I/O or database error
  temp_fail = 75,   // locked by another process; retry later
  config = 78,      // configuration error, or a database from a newer crm
};

// The one error type of crm: an exit code, a one-line message a user can act
// on, and an optional hint (printed on the following lines).
class Error : public std::runtime_error {
public:
  Error(Exit code, std::string message, std::string hint = {})
      : std::runtime_error(std::move(message)), m_code(code), m_hint(std::move(hint)) {}

  Exit code() const noexcept { return m_code; }
  const std::string& hint() const noexcept { return m_hint; }

private:
  Exit m_code;
  std::string m_hint;
};

// Thrown when the reader of stdout has gone away (EPIPE); ends a command
// quietly with exit 0.
struct BrokenPipe {};

} // namespace crm
