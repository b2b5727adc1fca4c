// SPDX-License-Identifier: MIT
#include "secrets.hpp"

#include <array>
#include <cstddef>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace auth_service {
namespace {

constexpr std::size_t salt_bytes = 16;
constexpr std::size_t key_bytes = 64;

void random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    throw std::runtime_error("auth_service: RAND_bytes failed (no entropy source)");
  }
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static constexpr std::string_view digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 0x0f]);
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The scrypt key of `password` with `salt_hex` (its text is the salt, as in Better Auth).
std::array<unsigned char, key_bytes> derive(std::string_view password, std::string_view salt_hex,
                                            const scrypt_params& params) {
  std::array<unsigned char, key_bytes> key{};
  // scrypt needs 128 * r * N bytes (and a little more): allow twice that, as Better Auth does.
  const std::uint64_t maxmem = 2 * 128 * params.r * params.n + 1024 * 1024;
  if (EVP_PBE_scrypt(password.data(), password.size(),
                     reinterpret_cast<const unsigned char*>(salt_hex.data()), salt_hex.size(),
                     params.n, params.r, params.p, maxmem, key.data(), key.size()) != 1) {
    throw std::runtime_error("auth_service: scrypt failed (invalid parameters or out of memory)");
  }
  return key;
}

}  // namespace

std::string hash_password(std::string_view password, const scrypt_params& params) {
  std::array<unsigned char, salt_bytes> salt{};
  random_bytes(salt.data(), salt.size());
  const std::string salt_hex = to_hex(salt.data(), salt.size());
  const auto key = derive(password, salt_hex, params);
  return salt_hex + ":" + to_hex(key.data(), key.size());
}

bool verify_password(std::string_view password, std::string_view stored,
                     const scrypt_params& params) {
  const auto colon = stored.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view salt_hex = stored.substr(0, colon);
  const std::string_view key_hex = stored.substr(colon + 1);
  if (key_hex.size() != 2 * key_bytes) return false;
  std::array<unsigned char, key_bytes> expected{};
  for (std::size_t i = 0; i < key_bytes; ++i) {
    const int hi = hex_digit(key_hex[2 * i]);
    const int lo = hex_digit(key_hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    expected[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  const auto key = derive(password, salt_hex, params);
  return CRYPTO_memcmp(key.data(), expected.data(), key_bytes) == 0;
}

std::string random_id() {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  // 62 letters and digits: bytes of 248 and above are skipped so that each is equally likely.
  constexpr unsigned limit = 256 - 256 % alphabet.size();
  std::string id;
  id.reserve(32);
  std::array<unsigned char, 48> buf{};
  while (id.size() < 32) {
    random_bytes(buf.data(), buf.size());
    for (const unsigned char b : buf) {
      if (b < limit && id.size() < 32) id.push_back(alphabet[b % alphabet.size()]);
    }
  }
  return id;
}

}  // namespace auth_service
