// SPDX-License-Identifier: MIT
#include "param_arrays.hpp"

#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "pgorm/error.hpp"

namespace pgorm::detail {

void param_arrays::throw_too_many(std::size_t n) {
  throw usage_error(fmt::format(
      "pgorm: {} parameters in one statement; PostgreSQL accepts at most 65535 — split the "
      "statement into batches",
      n));
}

void param_arrays::fill_views(std::span<const param> params, std::string& scratch) {
  // The protocol counts parameters in an int16 (PostgreSQL docs 55.7, Bind message).
  if (params.size() > 65535) [[unlikely]]
    throw_too_many(params.size());
  const std::size_t n = params.size();
  count_ = static_cast<int>(n);
  const char** values = values_small_;
  int* lengths = lengths_small_;
  int* formats = formats_small_;
  Oid* types = types_small_;
  if (n > inline_count) {
    static_assert(alignof(const char*) >= alignof(int) && alignof(int) >= alignof(Oid));
    big_ = std::make_unique<std::byte[]>(n * (sizeof(const char*) + 2 * sizeof(int) + sizeof(Oid)));
    std::byte* at = big_.get();
    values = reinterpret_cast<const char**>(at);  // NOLINT: one block, typed by offset
    at += n * sizeof(const char*);
    lengths = reinterpret_cast<int*>(at);  // NOLINT
    at += n * sizeof(int);
    formats = reinterpret_cast<int*>(at);  // NOLINT
    at += n * sizeof(int);
    types = reinterpret_cast<Oid*>(at);  // NOLINT
  }
  values_ = values;
  lengths_ = lengths;
  formats_ = formats;
  types_ = types;

  bool any_text = false;
  for (std::size_t i = 0; i < n; ++i) {
    const param& p = params[i];
    types[i] = p.type();
    formats[i] = static_cast<int>(p.format());
    if (p.is_null()) {
      values[i] = nullptr;
      lengths[i] = 0;
    } else if (p.format() == data_format::binary) {
      if (p.bytes().size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
          [[unlikely]] {
        throw_param_too_large(i + 1);
      }
      values[i] = p.bytes().data();
      lengths[i] = static_cast<int>(p.bytes().size());
    } else {
      any_text = true;
    }
  }
  if (any_text) fill_text(params, scratch, values, lengths);
}

void param_arrays::fill_text(std::span<const param> params, std::string& scratch,
                             const char** values, int* lengths) {
  // Text values are copied into one buffer; pointers are taken once it stops growing. The
  // builders' parameters are libpq's arrays already (fill): nothing is copied for them.
  scratch.clear();
  const std::size_t n = params.size();
  for (std::size_t i = 0; i < n; ++i) {
    const param& p = params[i];
    if (p.is_null() || p.format() == data_format::binary) continue;
    const std::string_view text = p.bytes();
    if (const void* nul = std::memchr(text.data(), '\0', text.size()); nul != nullptr) {
      throw_nul_in_text_param(
          i + 1, static_cast<std::size_t>(static_cast<const char*>(nul) - text.data()));
    }
    if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) [[unlikely]] {
      throw_param_too_large(i + 1);
    }
    scratch.append(text);
    scratch.push_back('\0');
  }
  std::size_t at = 0;  // the values in scratch, in order, each followed by its NUL
  for (std::size_t i = 0; i < n; ++i) {
    const param& p = params[i];
    if (p.is_null() || p.format() == data_format::binary) continue;
    values[i] = scratch.data() + at;
    lengths[i] = static_cast<int>(p.bytes().size());
    at += p.bytes().size() + 1;
  }
}

}  // namespace pgorm::detail
