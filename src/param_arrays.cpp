// SPDX-License-Identifier: MIT
#include "param_arrays.hpp"

#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "pgorm/error.hpp"

namespace pgorm::detail {

void param_arrays::fill(std::span<const param> params, std::string& scratch) {
  // The protocol counts parameters in an int16 (PostgreSQL docs 55.7, Bind message).
  if (params.size() > 65535) [[unlikely]] {
    throw usage_error(
        fmt::format("pgorm: {} parameters in one statement; PostgreSQL accepts at "
                    "most 65535 — split the statement into batches",
                    params.size()));
  }
  const std::size_t n = params.size();
  count_ = static_cast<int>(n);
  if (n > inline_count) {
    static_assert(alignof(const char*) >= alignof(int) && alignof(int) >= alignof(Oid));
    big_ = std::make_unique<std::byte[]>(n * (sizeof(const char*) + 2 * sizeof(int) + sizeof(Oid)));
    std::byte* at = big_.get();
    values_ = reinterpret_cast<const char**>(at);  // NOLINT: one block, typed by offset
    at += n * sizeof(const char*);
    lengths_ = reinterpret_cast<int*>(at);  // NOLINT
    at += n * sizeof(int);
    formats_ = reinterpret_cast<int*>(at);  // NOLINT
    at += n * sizeof(int);
    types_ = reinterpret_cast<Oid*>(at);  // NOLINT
  }

  bool any_text = false;
  for (std::size_t i = 0; i < n; ++i) {
    const param& p = params[i];
    types_[i] = p.type();
    formats_[i] = static_cast<int>(p.format());
    if (p.is_null()) {
      values_[i] = nullptr;
      lengths_[i] = 0;
    } else if (p.format() == data_format::binary) {
      if (p.bytes().size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
          [[unlikely]] {
        throw usage_error(
            fmt::format("pgorm: parameter ${} is larger than 2 GiB, the protocol's limit", i + 1));
      }
      values_[i] = p.bytes().data();
      lengths_[i] = static_cast<int>(p.bytes().size());
    } else {
      any_text = true;
    }
  }
  if (any_text) fill_text(params, scratch);
}

void param_arrays::fill_text(std::span<const param> params, std::string& scratch) {
  // Text values are copied into one buffer; pointers are taken once it stops growing. The
  // builders send binary parameters only, which libpq takes by length: nothing is copied.
  scratch.clear();
  const std::size_t n = params.size();
  for (std::size_t i = 0; i < n; ++i) {
    const param& p = params[i];
    if (p.is_null() || p.format() == data_format::binary) continue;
    const std::string_view text = p.bytes();
    if (const void* nul = std::memchr(text.data(), '\0', text.size()); nul != nullptr) {
      const auto offset = static_cast<const char*>(nul) - text.data();
      throw conversion_error(
          fmt::format("pgorm: parameter ${} is text with a NUL byte at offset {}; PostgreSQL "
                      "text cannot hold NUL, so it is refused rather than truncated (send "
                      "binary data as bytea)",
                      i + 1, offset),
          "", fmt::format("${}", i + 1), "text", "text parameter");
    }
    if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) [[unlikely]] {
      throw usage_error(
          fmt::format("pgorm: parameter ${} is larger than 2 GiB, the protocol's limit", i + 1));
    }
    scratch.append(text);
    scratch.push_back('\0');
  }
  std::size_t at = 0;  // the values in scratch, in order, each followed by its NUL
  for (std::size_t i = 0; i < n; ++i) {
    const param& p = params[i];
    if (p.is_null() || p.format() == data_format::binary) continue;
    values_[i] = scratch.data() + at;
    lengths_[i] = static_cast<int>(p.bytes().size());
    at += p.bytes().size() + 1;
  }
}

}  // namespace pgorm::detail
