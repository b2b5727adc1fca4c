// The message of a captured exception, for errors that report an earlier failure.
#pragma once

#include <exception>
#include <string>

namespace pgorm::detail {

/// What `error` says: its what() for a std::exception, else a fixed description.
inline std::string what_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

}  // namespace pgorm::detail
