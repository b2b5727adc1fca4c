// SPDX-License-Identifier: MIT
// The out-of-line parts of the multi-dimensional array codec (detail/codec_array.hpp): header
// parsing, with every size checked against the bytes before anything is allocated, and the
// ragged-array error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "pgorm/types.hpp"

namespace pgorm::detail {

md_array_header read_md_array_header(std::string_view bytes, std::size_t depth) {
  if (bytes.size() < 12) throw_decode_error("truncated array header");
  const auto ndim = load_be<std::int32_t>(bytes.data());
  const auto flags = load_be<std::int32_t>(bytes.data() + 4);
  md_array_header h;
  h.element_type = load_be<std::uint32_t>(bytes.data() + 8);
  if (flags != 0 && flags != 1) throw_decode_error("invalid array flags");
  if (ndim == 0) {
    h.offset = 12;
    return h;
  }
  if (ndim < 0 || static_cast<std::size_t>(ndim) != depth) {
    throw_decode_error(fmt::format(
        "a {}-dimensional array cannot be read into {} levels of std::vector; nest the vectors "
        "as deep as the array has dimensions",
        ndim, depth));
  }
  h.ndim = depth;
  const std::size_t header = 12 + 8 * depth;
  if (bytes.size() < header) throw_decode_error("truncated array header");
  // Every element takes at least its 4-byte length word: the product of the sizes may not
  // exceed what the bytes can hold.
  const std::size_t room = (bytes.size() - header) / 4;
  std::size_t total = 1;
  for (std::size_t k = 0; k != depth; ++k) {
    const auto size = load_be<std::int32_t>(bytes.data() + 12 + 8 * k);
    if (size < 0) throw_decode_error("invalid array size");
    h.dims[k] = static_cast<std::size_t>(size);
    if (h.dims[k] != 0 && total > room / h.dims[k]) throw_decode_error("invalid array size");
    total *= h.dims[k];
  }
  // A zero-length dimension with others non-zero: the server never sends it; read it empty.
  if (total == 0) h.ndim = 0;
  h.offset = header;
  return h;
}

void throw_ragged_array(std::size_t level, std::size_t size, std::size_t expected) {
  throw_encode_error(fmt::format(
      "pgorm: a multi-dimensional array must be rectangular: a vector at level {} has {} "
      "elements where the first one at that level has {}",
      level, size, expected));
}

}  // namespace pgorm::detail
