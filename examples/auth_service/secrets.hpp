// SPDX-License-Identifier: MIT
#pragma once

// Passwords and tokens: scrypt password hashes in Better Auth's format, and random ids and
// session tokens from OpenSSL's CSPRNG. OpenSSL's libcrypto is already on every machine that
// builds pgorm (Debian's libpq-dev depends on libssl-dev): no new dependency. README.md says what
// differs from Better Auth and what a production service should weigh.

#include <cstdint>
#include <string>
#include <string_view>

namespace auth_service {

// Better Auth's scrypt parameters: N = 16384, r = 16, p = 1, a 64-byte key.
struct scrypt_params {
  std::uint64_t n = 16384;
  std::uint64_t r = 16;
  std::uint64_t p = 1;
};

// "<salt>:<key>", both in hex, as Better Auth stores account.password: the salt is 16 random
// bytes, and the key is scrypt(password, salt's hex text, N, r, p, 64 bytes). Unlike Better
// Auth, the password is not NFKC-normalized first (the same bytes for ASCII passwords).
// Takes about 50 ms of CPU with the default parameters: call it off the I/O thread.
[[nodiscard]] std::string hash_password(std::string_view password, const scrypt_params& params);

// True when `password` hashes to `stored` (compared in constant time); false for a stored
// value that is not "<salt>:<key>".
[[nodiscard]] bool verify_password(std::string_view password, std::string_view stored,
                                   const scrypt_params& params);

// 32 letters and digits from OpenSSL's CSPRNG (RAND_bytes), unbiased: ids and session tokens,
// as Better Auth's generateId makes them (about 190 bits).
[[nodiscard]] std::string random_id();

}  // namespace auth_service
