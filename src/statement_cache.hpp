// SPDX-License-Identifier: MIT
#pragma once
// A connection's cache of prepared statements (private to the library).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "pgorm/connection.hpp"
#include "pgorm/statement_shape.hpp"

namespace pgorm {
namespace detail {

// The per-connection cache of prepared statements: SQL text + parameter types -> statement name,
// least recently used first out. Keyed by statement_key(text) mixed with the parameter types:
// a builder's static statement brings its key computed at compile time (statement_shape), so a
// hit hashes nothing and allocates nothing; the text is compared too (or, for static text, its
// address), so a hash collision only costs an unnamed execution.
struct statement_entry {
  std::uint64_t hash;
  std::string sql;
  // The static text this entry was last found by (a statement_shape with a key): the same
  // address and size is the same text, so the next lookup skips comparing it.
  const char* static_text = nullptr;
  std::vector<Oid> types;
  std::string name;
  // The row layout the results of this statement were found to match (result::checked_layout):
  // a prepared statement's result columns cannot change, so it is checked once.
  const checked_columns* checked = nullptr;
};

/// The checked columns of `layout` remembered on the cached statement `e` (its results were
/// checked before), else nullptr.
inline const checked_columns* known_layout(const statement_entry* e,
                                           const row_layout* layout) noexcept {
  if (layout == nullptr || e == nullptr || e->checked == nullptr) return nullptr;
  return e->checked->layout == layout ? e->checked : nullptr;
}

/// The checked columns of `layout` when the binary result `res` of the cached statement `e`
/// has its columns (checked once per statement and remembered on the entry), else nullptr.
inline const checked_columns* check_layout(statement_entry* e, const result& res,
                                           const row_layout* layout) {
  if (layout == nullptr || e == nullptr) return nullptr;
  if (const checked_columns* known = known_layout(e, layout)) return known;
  if (!res.columns_match(*layout)) return nullptr;
  e->checked = intern_checked_columns(*layout, res);
  return e->checked;
}

/// The cache itself: the synchronous connection's (connection::statement_cache) and the async
/// connection's, which prepares builders' static statements the same way.
struct statement_lru {
  using entry = statement_entry;

  // Server-side names, unique in the process. Short enough for std::string's inline buffer
  // until the 2^36th statement.
  static std::string next_name() {
    static std::atomic<std::uint64_t> counter{0};
    return fmt::format("pgorm_{:x}", counter.fetch_add(1, std::memory_order_relaxed) + 1);
  }
  enum class lookup { hit, miss, collision };

  explicit statement_lru(std::size_t cap) : capacity(cap == 0 ? 1 : cap) {}

  // The statement key mixed with the parameter types, a whole OID per FNV step (the hash only
  // picks a bucket; find() compares the types too).
  static std::uint64_t hash(const statement_shape& shape, const Oid* types, int n) noexcept {
    std::uint64_t h = shape.key != 0 ? shape.key : statement_key(shape.sql);
    for (int i = 0; i < n; ++i) {
      h ^= types[i];
      h *= 1099511628211ULL;
    }
    return h;
  }

  // True when `e` is the statement of `shape`'s text with these parameter types.
  static bool same(entry& e, const statement_shape& shape, const Oid* types, int n) {
    if (e.types.size() != static_cast<std::size_t>(n) || e.sql.size() != shape.sql.size()) {
      return false;
    }
    // A statement has a few parameters: compared in line (std::equal calls memcmp, whose call
    // costs more than the comparison; bench: 18 instructions per point select).
    for (int i = 0; i < n; ++i) {
      if (e.types[static_cast<std::size_t>(i)] != types[i]) return false;
    }
    if (shape.key != 0 && e.static_text == shape.sql.data()) return true;
    if (e.sql != shape.sql) return false;
    if (shape.key != 0) e.static_text = shape.sql.data();
    return true;
  }

  lookup find(std::uint64_t h, const statement_shape& shape, const Oid* types, int n, entry*& out) {
    const auto it = by_hash.find(h);
    if (it == by_hash.end()) return lookup::miss;
    if (!same(*it->second, shape, types, n)) return lookup::collision;
    if (it->second != lru.begin()) lru.splice(lru.begin(), lru, it->second);
    out = &*it->second;
    remember(shape, it->second);
    return lookup::hit;
  }

  // The entry of the statement used last (the front of the LRU list: a loop or a hot path repeats
  // one statement), else find_recent()'s; nullptr when neither is it. Cheap enough to inline.
  entry* find_fast(const statement_shape& shape, const Oid* types, int n) {
    if (!lru.empty() && same(lru.front(), shape, types, n)) return &lru.front();
    return find_recent(shape, types, n);
  }

  // The entry of a static statement (a shape with a compile-time key) found again by its key
  // alone: no hash, no map. A transaction's statements take turns at the front of the LRU list,
  // so the caller's look at the front misses them (bench, TPC-B: five statements per
  // transaction, ~120 instructions per lookup through the map). Moved to the front, as find().
  entry* find_recent(const statement_shape& shape, const Oid* types, int n) {
    if (shape.key == 0) return nullptr;
    const recent_slot& slot = recent[slot_of(shape.key)];
    if (slot.e == nullptr || slot.e->static_text != shape.sql.data() ||
        !same(*slot.e, shape, types, n)) {
      return nullptr;
    }
    if (slot.it != lru.begin()) lru.splice(lru.begin(), lru, slot.it);
    return slot.e;
  }

  // Adds an entry at the front; returns the name of the evicted one ("" when none was).
  std::string add(std::uint64_t h, const statement_shape& shape, const Oid* types, int n,
                  std::string name) {
    std::string evicted;
    if (lru.size() >= capacity) {
      forget(&lru.back());
      evicted = std::move(lru.back().name);
      by_hash.erase(lru.back().hash);
      lru.pop_back();
    }
    lru.push_front(entry{h, std::string(shape.sql), shape.key != 0 ? shape.sql.data() : nullptr,
                         std::vector<Oid>(types, types + n), std::move(name), nullptr});
    by_hash[h] = lru.begin();
    remember(shape, lru.begin());
    return evicted;
  }

  void erase(std::uint64_t h) {
    const auto it = by_hash.find(h);
    if (it == by_hash.end()) return;
    forget(&*it->second);
    lru.erase(it->second);
    by_hash.erase(it);
  }

  void clear() noexcept {
    lru.clear();
    by_hash.clear();
    recent.fill({});
  }

  std::size_t capacity;
  std::list<entry> lru;
  std::unordered_map<std::uint64_t, std::list<entry>::iterator> by_hash;

 private:
  // find_recent()'s slots: a static statement's entry by its key, emptied with the entry.
  struct recent_slot {
    entry* e = nullptr;
    std::list<entry>::iterator it{};
  };
  static constexpr std::size_t recent_slots = 64;
  // The key's top bits: FNV-1a's multiplications mix every byte of the text into them.
  static std::size_t slot_of(std::uint64_t key) noexcept { return key >> 58; }

  void remember(const statement_shape& shape, std::list<entry>::iterator it) noexcept {
    if (shape.key != 0) recent[slot_of(shape.key)] = {&*it, it};
  }
  void forget(const entry* e) noexcept {
    for (recent_slot& slot : recent) {
      if (slot.e == e) slot = {};
    }
  }

  std::array<recent_slot, recent_slots> recent{};
};

}  // namespace detail

struct connection::statement_cache : detail::statement_lru {
  using statement_lru::statement_lru;
};

}  // namespace pgorm
