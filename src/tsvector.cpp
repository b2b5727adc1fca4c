// SPDX-License-Identifier: MIT
// The binary tsvector format (tsvectorsend / tsvectorrecv in PostgreSQL's tsvector.c).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "pgorm/detail/codec_tsvector.hpp"

namespace pgorm::detail {

namespace {

// PostgreSQL's limits (ts_type.h): MAXSTRLEN, MAXNUMPOS and MAXENTRYPOS - 1.
constexpr std::size_t max_word_bytes = (1U << 11U) - 1;
constexpr std::size_t max_positions = 256;
constexpr std::uint16_t max_position = (1U << 14U) - 1;

std::uint16_t weight_bits(char weight) {
  switch (weight) {
    case 'A':
    case 'a':
      return 3;
    case 'B':
    case 'b':
      return 2;
    case 'C':
    case 'c':
      return 1;
    case 'D':
    case 'd':
      return 0;
    default:
      throw_encode_error("pgorm: a tsvector position's weight is 'A', 'B', 'C' or 'D'");
  }
}

std::string quoted(std::string_view word) {
  return "'" + std::string(word.substr(0, 64)) + (word.size() > 64 ? "...'" : "'");
}

}  // namespace

void encode_tsvector(const tsvector& value, byte_buffer& out) {
  if (value.lexemes.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
      [[unlikely]] {
    throw_encode_error("pgorm: a tsvector has too many lexemes");
  }
  out.append_be(static_cast<std::int32_t>(value.lexemes.size()));
  for (const tsvector::lexeme& lexeme : value.lexemes) {
    const std::string_view word = lexeme.word;
    if (word.empty() || word.find('\0') != std::string_view::npos) [[unlikely]] {
      throw_encode_error("pgorm: a tsvector lexeme is not empty and holds no NUL byte");
    }
    if (word.size() > max_word_bytes) [[unlikely]] {
      throw_encode_error("pgorm: the tsvector lexeme " + quoted(word) + " is longer than " +
                         std::to_string(max_word_bytes) + " bytes");
    }
    if (lexeme.positions.size() > max_positions) [[unlikely]] {
      throw_encode_error("pgorm: the tsvector lexeme " + quoted(word) + " has more than " +
                         std::to_string(max_positions) + " positions");
    }
    out.append(word);
    out.push_back('\0');
    out.append_be(static_cast<std::uint16_t>(lexeme.positions.size()));
    std::uint16_t previous = 0;
    for (const tsvector::position& p : lexeme.positions) {
      if (p.index == 0 || p.index > max_position || p.index <= previous) [[unlikely]] {
        throw_encode_error("pgorm: the positions of tsvector lexeme " + quoted(word) +
                           " must increase, from 1 to " + std::to_string(max_position) + " (got " +
                           std::to_string(p.index) + ")");
      }
      previous = p.index;
      out.append_be(static_cast<std::uint16_t>((weight_bits(p.weight) << 14U) | p.index));
    }
  }
}

void decode_tsvector(std::string_view bytes, tsvector& out) {
  std::size_t pos = 0;
  const auto need = [&](std::size_t n, const char* what) {
    if (bytes.size() - pos < n) [[unlikely]] {
      throw_decode_error(std::string("tsvector value is truncated (") + what + ")");
    }
  };
  need(4, "lexeme count");
  const auto count = load_be<std::int32_t>(bytes.data());
  pos = 4;
  if (count < 0) [[unlikely]]
    throw_decode_error("tsvector value has a negative lexeme count");
  // Each lexeme takes at least 4 bytes (one byte, NUL, position count): a count the bytes
  // cannot hold is refused before anything is allocated.
  if (static_cast<std::size_t>(count) > (bytes.size() - pos) / 4) [[unlikely]]
    throw_decode_error("tsvector value is truncated (lexemes)");
  out.lexemes.clear();
  out.lexemes.resize(static_cast<std::size_t>(count));
  static constexpr char weights[] = {'D', 'C', 'B', 'A'};
  for (tsvector::lexeme& lexeme : out.lexemes) {
    const std::size_t end = bytes.find('\0', pos);
    if (end == std::string_view::npos || end == pos) [[unlikely]] {
      throw_decode_error("tsvector value has an unterminated or empty lexeme");
    }
    if (end - pos > max_word_bytes) [[unlikely]]
      throw_decode_error("tsvector value has a lexeme longer than the server allows");
    lexeme.word.assign(bytes.substr(pos, end - pos));
    pos = end + 1;
    need(2, "position count");
    const auto npos = load_be<std::uint16_t>(bytes.data() + pos);
    pos += 2;
    if (npos > max_positions) [[unlikely]]
      throw_decode_error("tsvector value has a lexeme with more positions than the server allows");
    need(std::size_t{2} * npos, "positions");
    lexeme.positions.resize(npos);
    std::uint16_t previous = 0;
    for (tsvector::position& p : lexeme.positions) {
      const auto raw = load_be<std::uint16_t>(bytes.data() + pos);
      pos += 2;
      p.index = static_cast<std::uint16_t>(raw & max_position);
      p.weight = weights[raw >> 14U];
      // What encode() refuses, decode() refuses: the server never sends it.
      if (p.index <= previous) [[unlikely]]
        throw_decode_error("tsvector value has positions that do not increase from 1");
      previous = p.index;
    }
  }
  if (pos != bytes.size()) [[unlikely]]
    throw_decode_error("tsvector value has trailing bytes");
}

}  // namespace pgorm::detail
