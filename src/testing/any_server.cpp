// SPDX-License-Identifier: MIT
// pgorm::testing::any_server: the native or the container backend, as PGORM_TEST_SERVER says.
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "pgorm/testing/server.hpp"

namespace pgorm::testing {

server_spec server_spec_from_env() {
  const char* text = std::getenv("PGORM_TEST_SERVER");
  return parse_server_spec(text == nullptr ? "" : text);
}

any_server::any_server(server_options options, const server_spec& spec) {
  if (!spec.container) {
    native_ = std::make_unique<server>(std::move(options));
    return;
  }
  container_options c;
  c.version = spec.version;
  c.port = options.port;
  c.host_auth = std::move(options.host_auth);
  c.password = std::move(options.password);
  c.unsafe_fast = options.unsafe_fast;
  c.settings = std::move(options.settings);
  c.base_dir = std::move(options.base_dir);
  c.timeout = options.timeout;
  container_ = std::make_unique<container_server>(std::move(c));
}

any_server::any_server(any_server&& other) noexcept = default;
any_server& any_server::operator=(any_server&& other) noexcept = default;
any_server::~any_server() = default;

void any_server::stop(shutdown_mode mode) {
  if (native_) {
    native_->stop(mode);
  } else {
    container_->stop(mode);
  }
}

void any_server::start() {
  if (native_) {
    native_->start();
  } else {
    container_->start();
  }
}

void any_server::restart(shutdown_mode mode) {
  stop(mode);
  start();
}

void any_server::crash() {
  if (native_) {
    native_->crash();
  } else {
    container_->crash();
  }
}

bool any_server::running() const { return native_ ? native_->running() : container_->running(); }

std::string any_server::conninfo(std::string_view dbname) const {
  return native_ ? native_->conninfo(dbname) : container_->conninfo(dbname);
}

std::string any_server::url(std::string_view dbname) const {
  return native_ ? native_->url(dbname) : container_->url(dbname);
}

void any_server::create_database(std::string_view name) const {
  if (native_) {
    native_->create_database(name);
  } else {
    container_->create_database(name);
  }
}

std::uint16_t any_server::port() const noexcept {
  return native_ ? native_->port() : container_->port();
}

bool any_server::tcp() const noexcept { return native_ ? native_->tcp() : true; }

std::filesystem::path any_server::log_file() const {
  return native_ ? native_->log_file() : container_->log_file();
}

bool any_server::container() const noexcept { return container_ != nullptr; }
server* any_server::native() noexcept { return native_.get(); }
container_server* any_server::containerized() noexcept { return container_.get(); }

}  // namespace pgorm::testing
