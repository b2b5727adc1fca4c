// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Throwaway TLS material for tests: a certificate authority, a server certificate it signed
/// for `localhost` and 127.0.0.1, a client certificate with a passphrase-protected key, and a
/// second CA that signed nothing (for "wrong CA" tests). Made with the openssl command-line
/// program, in a temporary directory that the destructor deletes.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace pgorm::test {

/// Files for a TLS-enabled pgorm::testing::server and its clients.
///
/// Example:
/// ```
/// pgorm::test::tls_files tls{"postgres"};
/// pgorm::testing::server pg{{.tcp = true, .settings = tls.server_settings(), .run_as =
/// "postgres"}}; pgorm::connection c{fmt::format("host=localhost port={} user=postgres
/// sslmode=verify-full "
///                                 "sslrootcert={}", pg.port(), tls.ca_cert().string())};
/// ```
class tls_files {
 public:
  /// The passphrase of client_key().
  static constexpr const char* client_key_passphrase = "pgorm-client-key-passphrase-4d1f";

  /// Generates everything (a few EC P-256 keys: well under a second). `server_user`: the
  /// account the PostgreSQL server runs as; when this process is root, the server's key is
  /// given to it (PostgreSQL refuses a key file that its user does not own or that others can
  /// read). Empty means: the user pgorm::testing::server would pick (see server_user()).
  /// Throws std::runtime_error with openssl's output when a command fails.
  explicit tls_files(std::string server_user = {});
  tls_files(const tls_files&) = delete;
  tls_files& operator=(const tls_files&) = delete;
  tls_files(tls_files&&) = delete;
  tls_files& operator=(tls_files&&) = delete;
  /// Deletes the directory.
  ~tls_files();

  /// The user a pgorm::testing::server runs as with default options when we are root (env
  /// PGORM_PG_USER, else "postgres" if it exists, else "nobody"); "" when we are not root.
  static std::string server_user();

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  /// The CA that signed server_cert() and client_cert(): pass it as sslrootcert.
  [[nodiscard]] std::filesystem::path ca_cert() const { return dir_ / "ca.crt"; }
  /// A CA that signed nothing here: sslrootcert with it must fail verification.
  [[nodiscard]] std::filesystem::path other_ca_cert() const { return dir_ / "other-ca.crt"; }
  /// Server certificate: CN=localhost, subjectAltName DNS:localhost and IP:127.0.0.1.
  [[nodiscard]] std::filesystem::path server_cert() const { return dir_ / "server.crt"; }
  /// Server key: mode 0600, owned by the server's user.
  [[nodiscard]] std::filesystem::path server_key() const { return dir_ / "server.key"; }
  /// Client certificate (CN=postgres), signed by ca_cert().
  [[nodiscard]] std::filesystem::path client_cert() const { return dir_ / "client.crt"; }
  /// Client key, encrypted with client_key_passphrase (libpq's sslpassword).
  [[nodiscard]] std::filesystem::path client_key() const { return dir_ / "client.key"; }

  /// postgresql.conf lines for server_options::settings: ssl = on with the files above
  /// (ssl_ca_file makes the server ask for, and check, a client certificate when one is sent).
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> server_settings() const;

 private:
  std::filesystem::path dir_;
};

}  // namespace pgorm::test
