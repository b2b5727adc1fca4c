// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// pgorm::param_pack: a statement's parameters as they cross into an executor.

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "pgorm/export.hpp"
#include "pgorm/result.hpp"

namespace pgorm::detail {

class param_list;

/// A statement's parameters in the form libpq's send calls take: parallel arrays of the
/// values, their lengths, formats and type OIDs. Views: valid while their owner is.
struct bind_arrays {
  int count = 0;
  oid* types = nullptr;
  const char** values = nullptr;
  int* lengths = nullptr;
  int* formats = nullptr;
};

/// list.params(), out of line (src/types.cpp): param_pack needs it only on cold paths.
[[nodiscard]] PGORM_API std::span<const param> list_views(const param_list& list);

}  // namespace pgorm::detail

namespace pgorm {

/// A statement's parameters as an executor receives them: either pgorm::param views (what code
/// that calls exec() itself passes; a std::span<const param> converts implicitly) or a
/// builder's parameters, already laid out as libpq sends them, so that nothing is converted on
/// the way. The executors that take a statement_shape take one of these. A view: valid during
/// the call.
///
/// Example: `pgorm::param_pack none; auto r = conn.exec(shape, none, pgorm::data_format::text);`
class param_pack {
 public:
  constexpr param_pack() noexcept = default;
  /// Views of pgorm::param values.
  constexpr param_pack(
      std::span<const param> views) noexcept  // NOLINT(google-explicit-constructor)
      : views_(views.data()), size_(views.size()) {}
  /// Views of the pgorm::param values of a contiguous range (std::array, std::vector, ...).
  template <class R>
  requires(
      !std::is_same_v<std::remove_cvref_t<R>, param_pack> &&
      !std::is_same_v<std::remove_cvref_t<R>, std::span<const param>> &&
      std::is_convertible_v<
          R&&,
          std::span<
              const param>>) constexpr param_pack(R&& range) noexcept  // NOLINT(google-explicit-constructor)
      : param_pack(std::span<const param>(std::forward<R>(range))) {}
  /// A builder's parameters and their arrays (pgorm's runner makes these).
  param_pack(const detail::param_list& list, const detail::bind_arrays& arrays) noexcept
      : size_(static_cast<std::size_t>(arrays.count)), list_(&list), ready_(&arrays) {}

  /// How many parameters.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  /// The parameters as pgorm::param views (for a builder's, built on first use).
  [[nodiscard]] std::span<const param> views() const {
    return list_ != nullptr ? detail::list_views(*list_) : std::span<const param>(views_, size_);
  }
  /// libpq's arrays when the parameters came from a builder; null for views.
  [[nodiscard]] const detail::bind_arrays* arrays() const noexcept { return ready_; }
  /// The builder's parameter list behind arrays() (copied whole by whoever must keep the
  /// parameters past the call, e.g. an async statement); null for views.
  [[nodiscard]] const detail::param_list* list() const noexcept { return list_; }

 private:
  const param* views_ = nullptr;  // null for a builder's
  std::size_t size_ = 0;
  const detail::param_list* list_ = nullptr;
  const detail::bind_arrays* ready_ = nullptr;
};

}  // namespace pgorm
