// SPDX-License-Identifier: MIT
// Blocks of async requests and operations, recycled per thread. Every statement makes a
// request (its parameters inline, about 1 KB) and an operation (its completion handler): with
// hundreds of statements in flight (coroutines on one connection, a pool's shared reads)
// malloc serves them from its shared bins, whose slow paths cost thousands of instructions per
// statement; one at a time, its fast path still costs a hundred or so per block. A freed block
// is kept by the thread that frees it for the next one of its size class made on that thread
// (at most `keep` per class: what the most statements in flight at once needed).
#include <array>
#include <cstddef>
#include <new>
#include <vector>

#include "pgorm/async/connection.hpp"

namespace pgorm::async::detail {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t classes = 16;  // blocks up to 1 KB
constexpr std::size_t keep = 512;    // per class

struct spare_blocks {
  spare_blocks() = default;
  spare_blocks(const spare_blocks&) = delete;
  spare_blocks& operator=(const spare_blocks&) = delete;
  ~spare_blocks() {
    for (std::vector<void*>& c : by_class) {
      for (void* p : c) ::operator delete(p);
      c.clear();
    }
    gone = true;  // a block freed later on this thread (at its exit) goes back to malloc
  }
  std::array<std::vector<void*>, classes> by_class;
  bool gone = false;
};

thread_local spare_blocks spare;

// The class of a block of `size` bytes (classes: none).
std::size_t class_of(std::size_t size) noexcept { return (size + granule - 1) / granule - 1; }

}  // namespace

void* recycled_allocate(std::size_t size) {
  const std::size_t c = class_of(size);
  if (c >= classes || spare.gone) return ::operator new(size);
  std::vector<void*>& s = spare.by_class[c];
  if (!s.empty()) {
    void* p = s.back();
    s.pop_back();
    return p;
  }
  if (s.capacity() == 0) s.reserve(keep);    // deallocate() never allocates
  return ::operator new((c + 1) * granule);  // fits any size of its class
}

void recycled_free(void* p, std::size_t size) noexcept {
  const std::size_t c = class_of(size);
  if (c >= classes || spare.gone) {
    ::operator delete(p);
    return;
  }
  std::vector<void*>& s = spare.by_class[c];
  if (s.size() < s.capacity()) {
    s.push_back(p);
    return;
  }
  ::operator delete(p);
}

void* request::operator new(std::size_t size) { return recycled_allocate(size); }

void request::operator delete(void* p, std::size_t size) noexcept { recycled_free(p, size); }

}  // namespace pgorm::async::detail
