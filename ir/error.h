// loom::Error — the one exception type loom throws for anything a user can cause.
// Every error carries a stable code (its name never changes once shipped) and, where
// known, the user's source location.
#pragma once

#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>

namespace loom {

enum class ErrorCode {
  ShapeMismatch,      // operand shapes incompatible for the op
  DTypeMismatch,      // operand dtypes incompatible for the op
  InvalidAttribute,   // attribute missing, of the wrong kind, or out of range
  InvalidArgument,    // wrong operand count or other misuse of an API
  ParseError,         // malformed .loom text
  SerializationError, // malformed .loompb / protobuf bytes
  VerifyError,        // IR invariant violated
  InvalidInput,       // missing/misshaped/mistyped tensor handed to an executable
  RuntimeError,       // a kernel met bad data at run time (e.g. index out of range)
  Unsupported,        // valid request that this build or target cannot do
  IOError,            // file cannot be read or written
  Internal,           // a loom bug
};

// Stable, lower_snake name of a code, e.g. "shape_mismatch".
std::string_view error_code_name(ErrorCode code);

class Error : public std::runtime_error {
public:
  Error(ErrorCode code, const std::string& message);
  ErrorCode code() const { return code_; }
  // The message without the "error[code]: " prefix.
  const std::string& message() const { return message_; }

private:
  ErrorCode code_;
  std::string message_;
};

// "file.cpp:12" of a builder call site (file name without directories is not
// enough to find the file, so the full path the compiler saw is kept).
std::string format_location(const std::source_location& loc);

[[noreturn]] void throw_error(ErrorCode code, const std::string& message);

} // namespace loom
