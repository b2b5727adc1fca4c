// SPDX-License-Identifier: MIT
// Private to src/: a statement's parameters as the parallel arrays libpq's send calls take.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include <libpq-fe.h>

#include "pgorm/connection.hpp"
#include "pgorm/params.hpp"

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

  /// Fills the arrays from `params`: a builder's are libpq's arrays already and are only
  /// pointed at; views are converted. Throws usage_error for more than 65535 parameters or a
  /// value over 2 GiB (the protocol's limits), conversion_error for a text value holding a NUL
  /// byte (PostgreSQL text cannot hold one; libpq would silently cut it there).
  void fill(const param_pack& params, std::string& scratch) {
    if (const bind_arrays* ready = params.arrays()) {
      // A builder's parameters: its param_list checked each value as it was added.
      if (ready->count > 65535) [[unlikely]]
        throw_too_many(params.size());
      count_ = ready->count;
      values_ = ready->values;
      lengths_ = ready->lengths;
      formats_ = ready->formats;
      types_ = ready->types;
      return;
    }
    fill_views(params.views(), scratch);
  }

  [[nodiscard]] int count() const noexcept { return count_; }
  [[nodiscard]] const Oid* types() const noexcept { return types_; }
  [[nodiscard]] const char* const* values() const noexcept { return values_; }
  [[nodiscard]] const int* lengths() const noexcept { return lengths_; }
  [[nodiscard]] const int* formats() const noexcept { return formats_; }

 private:
  [[noreturn]] static void throw_too_many(std::size_t n);
  void fill_views(std::span<const param> params, std::string& scratch);
  void fill_text(std::span<const param> params, std::string& scratch, const char** values,
                 int* lengths);

  static constexpr std::size_t inline_count = 16;
  const char* values_small_[inline_count];
  int lengths_small_[inline_count];
  int formats_small_[inline_count];
  Oid types_small_[inline_count];
  // More than inline_count parameters: the four arrays in one block (pointers first, for
  // alignment).
  std::unique_ptr<std::byte[]> big_;
  const char* const* values_ = values_small_;
  const int* lengths_ = lengths_small_;
  const int* formats_ = formats_small_;
  const Oid* types_ = types_small_;
  int count_ = 0;
};

}  // namespace pgorm::detail
