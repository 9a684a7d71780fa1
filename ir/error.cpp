#include "ir/error.h"

namespace loom {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
  case ErrorCode::ShapeMismatch:
    return "shape_mismatch";
  case ErrorCode::DTypeMismatch:
    return "dtype_mismatch";
  case ErrorCode::InvalidAttribute:
    return "invalid_attribute";
  case ErrorCode::InvalidArgument:
    return "invalid_argument";
  case ErrorCode::ParseError:
    return "parse_error";
  case ErrorCode::SerializationError:
    return "serialization_error";
  case ErrorCode::VerifyError:
    return "verify_error";
  case ErrorCode::InvalidInput:
    return "invalid_input";
  case ErrorCode::RuntimeError:
    return "runtime_error";
  case ErrorCode::Unsupported:
    return "unsupported";
  case ErrorCode::IOError:
    return "io_error";
  case ErrorCode::Internal:
    return "internal";
  }
  return "unknown";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error("error[" + std::string(error_code_name(code)) + "]: " + message),
      code_(code), message_(message) {}

std::string format_location(const std::source_location& loc) {
  if (loc.line() == 0) return "<unknown>";
  return std::string(loc.file_name()) + ":" + std::to_string(loc.line());
}

void throw_error(ErrorCode code, const std::string& message) { throw Error(code, message); }

} // namespace loom
