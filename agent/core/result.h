// Result<T>: a value or an Error, the way every module boundary in ferry reports failure.
// Exceptions are used only at the top of a command; below that, errors travel as values
// whose message names the file, line, key or endpoint involved.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ferry {

// What kind of failure; callers branch on the code, people read the message.
enum class ErrorCode {
  kInvalidArgument,  // bad input from the user: config, flags
  kNotFound,
  kIo,        // file system
  kNetwork,   // connection, TLS, timeout
  kProtocol,  // a peer answered something we cannot parse
  kRemote,    // a peer answered with an error of its own
  kRefused,   // a peer refused us for a reason only an operator can fix (denied access, untrusted certificate)
  kFull,      // a configured bound is reached (the spool's max_bytes)
  kInternal,
};

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_;
  std::string message_;
};

// Holds either a T or an Error. Result<void> is spelled Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool ok_ = true;
};

}  // namespace ferry
