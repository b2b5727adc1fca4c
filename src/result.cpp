// SPDX-License-Identifier: MIT
#include "pgorm/result.hpp"

#include <cstring>
#include <limits>
#include <list>
#include <mutex>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>

namespace pgorm {

result::result(pg_result* res, const checked_columns* checked) noexcept
    : res_(res),
      rows_(res == nullptr ? 0 : PQntuples(res)),
      columns_(res == nullptr ? 0 : PQnfields(res)),
      checked_(res == nullptr ? nullptr : checked) {}

result& result::operator=(result&& other) noexcept {
  if (this != &other) {
    if (res_ != nullptr) PQclear(res_);
    res_ = other.res_;
    rows_ = other.rows_;
    columns_ = other.columns_;
    checked_ = other.checked_;
    other.res_ = nullptr;
    other.rows_ = 0;
    other.columns_ = 0;
    other.checked_ = nullptr;
  }
  return *this;
}

result::~result() {
  if (res_ != nullptr) PQclear(res_);
}

const checked_columns* intern_checked_columns(const row_layout& layout, const result& res) {
  struct entry {
    checked_columns columns;
    std::vector<oid> types;
  };
  // Never freed: results point at them as they would at static storage. One per distinct
  // layout and types, a handful in a program.
  static std::mutex mu;
  static std::list<entry> interned;
  std::vector<oid> types(static_cast<std::size_t>(res.columns()));
  for (int c = 0; c < res.columns(); ++c) types[static_cast<std::size_t>(c)] = res.column_type(c);
  const std::lock_guard lock(mu);
  for (const entry& e : interned) {
    if (e.columns.layout == &layout && e.types == types) return &e.columns;
  }
  entry& e = interned.emplace_back();
  e.types = std::move(types);
  e.columns = checked_columns{&layout, e.types};
  return &e.columns;
}

bool result::columns_match(const row_layout& layout) const noexcept {
  if (res_ == nullptr || static_cast<std::size_t>(columns_) != layout.columns.size()) return false;
  for (int c = 0; c < columns_; ++c) {
    const column_spec& spec = layout.columns[static_cast<std::size_t>(c)];
    if (PQfformat(res_, c) != 1 || !spec.accepts(PQftype(res_, c))) return false;
    if (!spec.name.empty() && spec.name != std::string_view(PQfname(res_, c))) return false;
  }
  return true;
}

void result::throw_bad_column(int col) const {
  throw usage_error(
      fmt::format("pgorm: column index {} is out of range; the result has {} "
                  "column(s)",
                  col, columns_));
}

void result::throw_bad_row(int row) const {
  throw usage_error(
      fmt::format("pgorm: row index {} is out of range; the result has {} row(s)", row, rows_));
}

std::string_view result::column_name(int col) const {
  check_column(col);
  return PQfname(res_, col);
}

bool result::column_name_is(int col, std::string_view name) const {
  check_column(col);
  const char* label = PQfname(res_, col);
  // strncmp stops at the label's NUL, so a shorter label is never read past its end.
  return std::strncmp(label, name.data(), name.size()) == 0 && label[name.size()] == '\0';
}

std::optional<int> result::column_index(std::string_view name) const noexcept {
  // PQfnumber folds unquoted names to lower case and wants a C string; compare exactly instead.
  const int n = columns();
  for (int i = 0; i < n; ++i) {
    if (name == PQfname(res_, i)) return i;
  }
  return std::nullopt;
}

oid result::column_type(int col) const {
  check_column(col);
  return PQftype(res_, col);
}

data_format result::column_format(int col) const {
  check_column(col);
  return PQfformat(res_, col) == 1 ? data_format::binary : data_format::text;
}

oid result::column_table(int col) const {
  check_column(col);
  return PQftable(res_, col);
}

bool result::is_null(int row, int col) const {
  check_index(row, col);
  return PQgetisnull(res_, row, col) == 1;
}

std::string_view result::value(int row, int col) const {
  check_index(row, col);
  return {PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col))};
}

std::optional<std::string_view> result::get(int row, int col) const {
  check_index(row, col);
  if (PQgetisnull(res_, row, col) == 1) return std::nullopt;
  return std::string_view{PQgetvalue(res_, row, col),
                          static_cast<std::size_t>(PQgetlength(res_, row, col))};
}

namespace {

/// Whether `tag` starts with the word `verb` followed by a space. Compared character by
/// character, stopping at the first difference: a shorter tag ends in a NUL that differs, so
/// nothing past it is read.
template <std::size_t N>
bool starts_with_verb(const char* tag, const char (&verb)[N]) noexcept {
  for (std::size_t i = 0; i + 1 < N; ++i) {
    if (tag[i] != verb[i]) return false;
  }
  return tag[N - 1] == ' ';
}

/// The length of the verb of a command tag that carries a row count, with its space, or 0.
std::size_t counted_verb(const char* tag) noexcept {
  // Dispatched on the first letter: one comparison of the verb instead of up to four.
  switch (tag[0]) {
    case 'I':
      return starts_with_verb(tag, "INSERT") ? 7 : 0;
    case 'U':
      return starts_with_verb(tag, "UPDATE") ? 7 : 0;
    case 'D':
      return starts_with_verb(tag, "DELETE") ? 7 : 0;
    case 'S':
      return starts_with_verb(tag, "SELECT") ? 7 : 0;
    case 'M':
      if (starts_with_verb(tag, "MERGE")) return 6;
      return starts_with_verb(tag, "MOVE") ? 5 : 0;
    case 'F':
      return starts_with_verb(tag, "FETCH") ? 6 : 0;
    case 'C':
      return starts_with_verb(tag, "COPY") ? 5 : 0;
    default:
      return 0;
  }
}

}  // namespace

std::int64_t result::affected_rows() const noexcept {
  if (res_ == nullptr) return 0;
  // The count is the last word of the command tags that carry one (protocol docs,
  // CommandComplete): "INSERT oid rows", "UPDATE rows", and DELETE, SELECT, MERGE, MOVE, FETCH,
  // COPY likewise: the tags PQcmdTuples knows, read here in one pass over the tag (PQcmdTuples
  // compares the tag with each verb in turn and costs more than the rest of a DML statement's
  // bookkeeping; a strlen, a search and a second search from the end cost ~90 instructions).
  const char* tag = PQcmdStatus(res_);
  if (tag == nullptr) return 0;
  const std::size_t verb = counted_verb(tag);
  if (verb == 0) return 0;
  // The words after the verb are numbers; the count is the last one.
  std::int64_t n = 0;
  bool digits = false;
  for (const char* p = tag + verb; *p != '\0'; ++p) {
    if (*p == ' ') {
      n = 0;
      digits = false;
      continue;
    }
    const auto d = static_cast<unsigned char>(*p - '0');
    if (d > 9) return 0;
    // Overflow-checked multiply-add: no division per digit.
    if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, d, &n)) {
      return 0;  // not a count PostgreSQL sends
    }
    digits = true;
  }
  return digits ? n : 0;
}

std::string_view result::command_tag() const noexcept {
  if (res_ == nullptr) return {};
  const char* tag = PQcmdStatus(res_);
  return tag == nullptr ? std::string_view{} : std::string_view{tag};
}

}  // namespace pgorm
