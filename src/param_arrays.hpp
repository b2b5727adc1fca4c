// SPDX-License-Identifier: MIT
// Private to src/: a statement's parameters as the parallel arrays libpq's send calls take.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include <libpq-fe.h>

#include "pgorm/connection.hpp"

namespace pgorm::detail {

/// The values, lengths, formats and type OIDs of a statement's parameters, for
/// PQsendQueryParams / PQsendQueryPrepared / PQsendPrepare. Up to 16 parameters live in the
/// object itself; more in one heap block. Binary values are pointed at, not copied; text values
/// are copied NUL-terminated into a scratch string the caller owns (libpq reads text with
/// strlen), so the arrays are valid while the params and the scratch string are.
class param_arrays {
 public:
  param_arrays() noexcept = default;
  param_arrays(const param_arrays&) = delete;
  param_arrays& operator=(const param_arrays&) = delete;
  param_arrays(param_arrays&&) = delete;
  param_arrays& operator=(param_arrays&&) = delete;
  ~param_arrays() = default;

  /// Fills the arrays from `params`. Throws usage_error for more than 65535 parameters or a
  /// value over 2 GiB (the protocol's limits), conversion_error for a text value holding a NUL
  /// byte (PostgreSQL text cannot hold one; libpq would silently cut it there).
  void fill(std::span<const param> params, std::string& scratch);

  [[nodiscard]] int count() const noexcept { return count_; }
  [[nodiscard]] const Oid* types() const noexcept { return types_; }
  [[nodiscard]] const char* const* values() const noexcept { return values_; }
  [[nodiscard]] const int* lengths() const noexcept { return lengths_; }
  [[nodiscard]] const int* formats() const noexcept { return formats_; }

 private:
  void fill_text(std::span<const param> params, std::string& scratch);

  static constexpr std::size_t inline_count = 16;
  const char* values_small_[inline_count];
  int lengths_small_[inline_count];
  int formats_small_[inline_count];
  Oid types_small_[inline_count];
  // More than inline_count parameters: the four arrays in one block (pointers first, for
  // alignment).
  std::unique_ptr<std::byte[]> big_;
  const char** values_ = values_small_;
  int* lengths_ = lengths_small_;
  int* formats_ = formats_small_;
  Oid* types_ = types_small_;
  int count_ = 0;
};

}  // namespace pgorm::detail
