// NumPy .npy files (format versions 1.0, 2.0 and 3.0), C order, little endian.
//
// dtypes: '<f4' f32, '<f8' f64, '<f2' f16, '|i1' i8, '<i4' i32, '<i8' i64, '|b1' bool.
// bf16 has no numpy dtype: writing it is Error(Unsupported).
// Errors: a file that cannot be opened, read or written, and any malformed content
// (bad magic, bad header, truncated or excess data) are Error(IOError) naming the file;
// well-formed files loom cannot represent (Fortran order, big endian, other dtypes) are
// Error(Unsupported).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace loom {

Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& tensor);

// In-memory forms. `source_name` is used in error messages in place of a file name.
Tensor npy_from_bytes(std::span<const uint8_t> bytes,
                      const std::string& source_name = "<npy bytes>");
std::vector<uint8_t> npy_to_bytes(const Tensor& tensor);

} // namespace loom
