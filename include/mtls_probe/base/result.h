// Errors are values: a small std::expected stand-in (C++20 has no <expected>).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace mtls_probe {

// An error with a human message and, where it came from OpenSSL, the drained error queue.
struct Error {
  std::string message;         // what went wrong, in words a user can act on
  std::string openssl_detail;  // OpenSSL's error queue, "" when not from OpenSSL
};

template <typename E>
struct Unexpected {
  // A constructor, not an aggregate: clang before 16 has no parenthesised aggregate initialisation.
  explicit Unexpected(E e) : error(std::move(e)) {}
  E error;
};
template <typename E>
Unexpected(E) -> Unexpected<E>;

// An Error with only a message, as an Unexpected (for errors that are not from OpenSSL).
inline Unexpected<Error> fail(std::string message) {
  return Unexpected{Error{std::move(message), {}}};
}

// Holds either a T or an E. Deliberately small: has_value(), value(), error(), operator bool.
template <typename T, typename E = Error>
class Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}            // NOLINT: implicit by design
  Expected(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT
  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const E& error() const { return std::get<1>(v_); }
  E& error() { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

}  // namespace mtls_probe
