// SPDX-License-Identifier: MIT
#include "http.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

namespace auth_service {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::use_awaitable;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;
using namespace std::chrono_literals;

constexpr auto io_timeout = 30s;               // to read a request or write a response
constexpr std::size_t body_limit = 16 * 1024;  // bytes of a request body

response reply(const request& req, http::status status, const json::value& body) {
  response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = json::serialize(body);
  res.prepare_payload();
  return res;
}

response fail(const request& req, http::status status, std::string_view message) {
  return reply(req, status, json::object{{"error", message}});
}

response no_content(const request& req) {
  response res{http::status::no_content, req.version()};
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

// ISO 8601 in UTC with milliseconds, as JavaScript's Date.toISOString() writes it.
std::string iso8601(pgorm::timestamp t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch());
  const auto day = std::chrono::floor<std::chrono::days>(ms);
  const std::chrono::year_month_day ymd{std::chrono::sys_days{day}};
  const std::chrono::hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

// The request's body as a JSON object, or nullopt.
std::optional<json::object> object_body(const request& req) {
  boost::system::error_code ec;
  json::value v = json::parse(req.body(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

// A string member of `o`, or nullopt when it is missing or not a string.
std::optional<std::string> text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// An e-mail address, lower-cased as Better Auth stores it; nullopt when it is not plausibly one
// (one '@' with text on both sides, no spaces or control characters, at most 254 bytes).
std::optional<std::string> email_of(const json::object& o) {
  auto email = text(o, "email");
  if (!email || email->size() > 254) return std::nullopt;
  const auto at = email->find('@');
  if (at == 0 || at == std::string::npos || at + 1 == email->size() ||
      email->find('@', at + 1) != std::string::npos) {
    return std::nullopt;
  }
  for (char& c : *email) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '\x7f') return std::nullopt;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return email;
}

// Better Auth's limits: a password of 8 to 128 bytes.
std::optional<std::string> password_of(const json::object& o) {
  auto password = text(o, "password");
  if (!password || password->size() < 8 || password->size() > 128) return std::nullopt;
  return password;
}

// The token of an "Authorization: Bearer <token>" header.
std::optional<std::string> bearer_token(const request& req) {
  const auto h = req[http::field::authorization];
  const std::string_view header(h.data(), h.size());
  constexpr std::string_view scheme = "Bearer ";
  if (!header.starts_with(scheme) || header.size() == scheme.size()) return std::nullopt;
  return std::string(header.substr(scheme.size()));
}

json::object user_json(const auth::User& u) {
  return {{"id", u.id}, {"name", u.name}, {"email", u.email}};
}

// ---- the routes ---------------------------------------------------------------------------------

asio::awaitable<response> signup(const request& req, pgorm::async::pool& db,
                                 password_hasher& hasher) {
  const auto body = object_body(req);
  const auto email = body ? email_of(*body) : std::nullopt;
  const auto password = body ? password_of(*body) : std::nullopt;
  const auto name = body ? text(*body, "name") : std::nullopt;
  if (!email || !password || !name || name->empty()) {
    co_return fail(req, http::status::bad_request,
                   "expected a JSON object with email, password (8 to 128 bytes) and name");
  }
  const auto user = co_await sign_up(db, hasher, *email, *name, *password);
  if (!user) co_return fail(req, http::status::conflict, "email already registered");
  co_return reply(req, http::status::created, user_json(*user));
}

asio::awaitable<response> login(const request& req, const std::string& client_ip,
                                pgorm::async::pool& db, password_hasher& hasher) {
  const auto body = object_body(req);
  const auto email = body ? email_of(*body) : std::nullopt;
  const auto password = body ? text(*body, "password") : std::nullopt;
  if (!email || !password) {
    co_return fail(req, http::status::bad_request,
                   "expected a JSON object with email and password");
  }
  const auto agent = req[http::field::user_agent];
  std::optional<std::string> user_agent;
  if (!agent.empty()) user_agent.emplace(agent.data(), agent.size());
  const auto session = co_await log_in(db, hasher, *email, *password, client_ip, user_agent);
  if (!session) co_return fail(req, http::status::unauthorized, "wrong email or password");
  co_return reply(
      req, http::status::ok,
      json::object{{"token", session->token}, {"expiresAt", iso8601(session->expires_at)}});
}

asio::awaitable<response> me(const request& req, pgorm::async::pool& db) {
  const auto token = bearer_token(req);
  if (!token) co_return fail(req, http::status::unauthorized, "expected Authorization: Bearer");
  const auto found = co_await current_session(db, *token);
  if (!found) co_return fail(req, http::status::unauthorized, "no such session, or it expired");
  const auto& [session, user] = *found;
  json::object body = user_json(user);
  body["session"] = json::object{{"expiresAt", iso8601(session.expires_at)},
                                 {"updatedAt", iso8601(session.updated_at)}};
  co_return reply(req, http::status::ok, body);
}

asio::awaitable<response> logout(const request& req, pgorm::async::pool& db) {
  const auto token = bearer_token(req);
  if (!token) co_return fail(req, http::status::unauthorized, "expected Authorization: Bearer");
  if (!co_await log_out(db, *token)) {
    co_return fail(req, http::status::unauthorized, "no such session");
  }
  co_return no_content(req);
}

asio::awaitable<response> waitlist(const request& req, pgorm::async::pool& db) {
  const auto body = object_body(req);
  const auto email = body ? email_of(*body) : std::nullopt;
  if (!email) co_return fail(req, http::status::bad_request, "expected a JSON object with email");
  auto name = text(*body, "name");
  auto source = text(*body, "source");
  if (!co_await join_waitlist(db, *email, std::move(name), std::move(source))) {
    co_return fail(req, http::status::conflict, "already on the waitlist");
  }
  co_return reply(req, http::status::created, json::object{{"email", *email}});
}

asio::awaitable<response> route(const request& req, const std::string& client_ip,
                                pgorm::async::pool& db, password_hasher& hasher) {
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const auto only = [&](http::verb verb) { return req.method() == verb; };
  if (path == "/signup" && only(http::verb::post)) co_return co_await signup(req, db, hasher);
  if (path == "/login" && only(http::verb::post)) {
    co_return co_await login(req, client_ip, db, hasher);
  }
  if (path == "/me" && only(http::verb::get)) co_return co_await me(req, db);
  if (path == "/logout" && only(http::verb::post)) co_return co_await logout(req, db);
  if (path == "/waitlist" && only(http::verb::post)) co_return co_await waitlist(req, db);
  if (path == "/signup" || path == "/login" || path == "/me" || path == "/logout" ||
      path == "/waitlist") {
    co_return fail(req, http::status::method_not_allowed, "method not allowed");
  }
  co_return fail(req, http::status::not_found, "no such route");
}

// The answer to a request whose handler threw: 503 when the pool had no connection to lend in
// time (the client may retry), 500 otherwise. The error goes to stderr (pgorm's error texts
// hold no passwords), never to the client.
response failure(const request& req, const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const pgorm::pool_timeout& e) {
    std::fprintf(stderr, "auth_service: %s\n", e.what());
    auto res = fail(req, http::status::service_unavailable, "database busy, try again");
    res.set(http::field::retry_after, "1");
    return res;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "auth_service: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "auth_service: unknown exception\n");
  }
  return fail(req, http::status::internal_server_error, "internal error");
}

}  // namespace

asio::awaitable<void> server::run() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(use_awaitable));
    if (ec == asio::error::operation_aborted || stopping_) break;
    if (ec) continue;  // e.g. out of file descriptors: that client is lost, the next may not be
    asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

void server::stop() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (beast::tcp_stream* stream : open_) stream->socket().close(ignored);
}

asio::awaitable<void> server::serve(asio::ip::tcp::socket socket) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const std::string client_ip = ec ? std::string() : peer.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  open_.insert(&stream);
  beast::flat_buffer buffer;
  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    stream.expires_after(io_timeout);
    auto [read_error, read] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(use_awaitable));
    if (read_error) break;  // the client closed, timed out, or sent what is not HTTP
    request req = parser.release();
    // While the handler runs, its own deadlines apply (the pool's acquire_timeout, each
    // statement's query_timeout), not the socket's.
    stream.expires_never();
    std::optional<response> res;
    std::exception_ptr error;
    try {
      res.emplace(co_await route(req, client_ip, db_, hasher_));
    } catch (...) {
      error = std::current_exception();
    }
    if (error) res.emplace(failure(req, error));
    stream.expires_after(io_timeout);
    auto [write_error, written] =
        co_await http::async_write(stream, *res, asio::as_tuple(use_awaitable));
    if (write_error || !res->keep_alive()) break;
  }
  open_.erase(&stream);
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace auth_service
