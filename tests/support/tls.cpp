// SPDX-License-Identifier: MIT
// Test certificates made with the openssl CLI (openssl-req(1), openssl-x509(1)). PostgreSQL
// requirements on the files: docs 19.9.3 "Creating Certificates" and 19.9.1 (a key file must
// belong to the server's user, or root, and must not be readable by others).
#include "support/tls.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace pgorm::test {

namespace fs = std::filesystem;

namespace {

// openssl config: one section per certificate profile (x509v3_config(5)).
constexpr const char* openssl_config = R"(
[req]
distinguished_name = dn
prompt = no

[dn]
CN = pgorm test

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
)";

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

// Runs `openssl <args>` through the shell with its output captured; throws with the output
// when it fails.
void openssl(const std::string& args) {
  const std::string command = "openssl " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("tls_files: cannot run openssl");
  std::string output;
  char buffer[512];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status != 0) {
    throw std::runtime_error(fmt::format(
        "tls_files: `{}` failed (status {}); is the openssl program installed (apt install "
        "openssl)?\n{}",
        command, status, output));
  }
}

void chown_to(const fs::path& path, const std::string& user) {
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) throw std::runtime_error("tls_files: no user " + user);
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error(fmt::format("tls_files: chown {} {}: {}", user, path.string(),
                                         std::generic_category().message(errno)));
  }
}

}  // namespace

std::string tls_files::server_user() {
  if (::geteuid() != 0) return {};
  if (const char* from_env = std::getenv("PGORM_PG_USER"); from_env != nullptr && *from_env) {
    return from_env;
  }
  return ::getpwnam("postgres") != nullptr ? "postgres" : "nobody";
}

tls_files::tls_files(std::string server_user_name) {
  if (server_user_name.empty()) server_user_name = server_user();
  std::string pattern = "/tmp/pgorm-tls-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("tls_files: mkdtemp failed in /tmp");
  }
  dir_ = pattern;
  try {
    // The server's user reads the certificates here: let it search the directory.
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    const auto cnf = dir_ / "openssl.cnf";
    std::ofstream(cnf) << openssl_config;
    const auto q = [](const fs::path& p) { return shell_quote(p.string()); };
    const std::string ec_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";

    for (const auto* name : {"ca", "other-ca"}) {
      openssl(fmt::format(
          "req -x509 -new -nodes {} -days 7 -config {} -extensions ca -subj {} "
          "-keyout {} -out {}",
          ec_key, q(cnf), shell_quote(fmt::format("/CN=pgorm test {}", name)),
          q(dir_ / fmt::format("{}.key", name)), q(dir_ / fmt::format("{}.crt", name))));
    }
    openssl(fmt::format("req -new -nodes {} -config {} -subj /CN=localhost -keyout {} -out {}",
                        ec_key, q(cnf), q(server_key()), q(dir_ / "server.csr")));
    openssl(fmt::format(
        "x509 -req -in {} -CA {} -CAkey {} -CAcreateserial -days 7 -extfile {} "
        "-extensions server -out {}",
        q(dir_ / "server.csr"), q(ca_cert()), q(dir_ / "ca.key"), q(cnf), q(server_cert())));
    // The client key is encrypted: libpq needs sslpassword to load it.
    openssl(fmt::format(
        "req -new {} -config {} -subj /CN=postgres -passout pass:{} -keyout {} "
        "-out {}",
        ec_key, q(cnf), client_key_passphrase, q(client_key()), q(dir_ / "client.csr")));
    openssl(fmt::format(
        "x509 -req -in {} -CA {} -CAkey {} -CAcreateserial -days 7 -extfile {} "
        "-extensions client -out {}",
        q(dir_ / "client.csr"), q(ca_cert()), q(dir_ / "ca.key"), q(cnf), q(client_cert())));

    const auto readable = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                          fs::perms::others_read;
    fs::permissions(ca_cert(), readable);
    fs::permissions(server_cert(), readable);
    // libpq, like the server, refuses a private key that others can read.
    fs::permissions(server_key(), fs::perms::owner_read | fs::perms::owner_write);
    fs::permissions(client_key(), fs::perms::owner_read | fs::perms::owner_write);
    if (!server_user_name.empty()) {
      chown_to(server_cert(), server_user_name);
      chown_to(server_key(), server_user_name);
    }
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

tls_files::~tls_files() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::vector<std::pair<std::string, std::string>> tls_files::server_settings() const {
  const auto quoted = [](const fs::path& p) { return "'" + p.string() + "'"; };
  return {{"ssl", "on"},
          {"ssl_cert_file", quoted(server_cert())},
          {"ssl_key_file", quoted(server_key())},
          {"ssl_ca_file", quoted(ca_cert())}};
}

}  // namespace pgorm::test
