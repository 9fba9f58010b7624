// kiln::Config's checked lookups: positive, non-negative and bounded numbers, and choices.
#include <algorithm>
#include <type_traits>

#include <fmt/format.h>

#include "config_state.hpp"

namespace kiln {
namespace {

template <class T>
constexpr bool is_vector = !std::is_same_v<T, detail::element_t<T>>;

/// What is wrong with a value (a message starting "must be"), or "" when it is valid.
template <class E>
std::string positive(E value) {
  return value > 0 ? "" : fmt::format("must be greater than 0, got {}", value);
}

template <class E>
std::string non_negative(E value) {
  return value >= 0 ? "" : fmt::format("must be 0 or more, got {}", value);
}

template <class E>
struct Range {
  E lo, hi;
  Bounds bounds;

  std::string operator()(E value) const {
    const bool with_lo = bounds == Bounds::closed || bounds == Bounds::closed_open;
    const bool with_hi = bounds == Bounds::closed || bounds == Bounds::open_closed;
    if ((with_lo ? value >= lo : value > lo) && (with_hi ? value <= hi : value < hi)) return "";
    if (bounds == Bounds::closed) return fmt::format("must be between {} and {}, got {}", lo, hi, value);
    return fmt::format("must be in {}{}, {}{}, got {}", with_lo ? '[' : '(', lo, hi, with_hi ? ']' : ')', value);
  }
};

/// `value`, read from `key`, once `check` passes it (each element of an array).
template <class T, class Check>
T checked(const Config& config, std::string_view key, T value, const Check& check) {
  const detail::Site site{config, key, *config.impl().table->get(key), std::nullopt};
  if constexpr (is_vector<T>) {
    const toml::array& array = *site.node.as_array();
    for (std::size_t i = 0; i < value.size(); ++i)
      if (const std::string problem = check(value[i]); !problem.empty()) site.element(i, *array.get(i)).fail(problem);
  } else if (const std::string problem = check(value); !problem.empty()) {
    site.fail(problem);
  }
  return value;
}

template <class T, class Check>
T checked_or(const Config& config, std::string_view key, T fallback, const Check& check) {
  std::optional<T> value = config.find<T>(key);
  return value ? checked(config, key, *std::move(value), check) : fallback;
}

/// `"a", "b" or "c"`.
std::string one_of(const std::vector<std::string>& choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += i + 1 == choices.size() ? " or " : ", ";
    out += detail::quoted(choices[i]);
  }
  return out;
}

std::string chosen(const Config& config, std::string_view key, std::string value,
                   const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return value;
  std::string message = fmt::format("expected {}, got {}", one_of(choices), detail::quoted(value));
  message += detail::did_you_mean(value, choices, detail::Quote::value);
  config.fail(key, message);
}

}  // namespace

template <class T>
T Config::get_positive(std::string_view key) const {
  return checked(*this, key, get<T>(key), positive<detail::element_t<T>>);
}

template <class T>
T Config::get_positive(std::string_view key, T fallback) const {
  return checked_or(*this, key, std::move(fallback), positive<detail::element_t<T>>);
}

template <class T>
T Config::get_non_negative(std::string_view key) const {
  return checked(*this, key, get<T>(key), non_negative<detail::element_t<T>>);
}

template <class T>
T Config::get_non_negative(std::string_view key, T fallback) const {
  return checked_or(*this, key, std::move(fallback), non_negative<detail::element_t<T>>);
}

template <class T>
T Config::get_in_range(std::string_view key, detail::element_t<T> lo, detail::element_t<T> hi, Bounds bounds) const {
  return checked(*this, key, get<T>(key), Range<detail::element_t<T>>{lo, hi, bounds});
}

template <class T>
T Config::get_in_range(std::string_view key, T fallback, detail::element_t<T> lo, detail::element_t<T> hi,
                       Bounds bounds) const {
  return checked_or(*this, key, std::move(fallback), Range<detail::element_t<T>>{lo, hi, bounds});
}

std::string Config::get_choice(std::string_view key, const std::vector<std::string>& choices) const {
  return chosen(*this, key, get<std::string>(key), choices);
}

std::string Config::get_choice(std::string_view key, const std::string& fallback,
                               const std::vector<std::string>& choices) const {
  std::optional<std::string> value = find<std::string>(key);
  return value ? chosen(*this, key, *std::move(value), choices) : fallback;
}

#define KILN_CONFIG_CHECKED_INSTANTIATE(T)                                                                      \
  template KILN_API T Config::get_positive<T>(std::string_view) const;                                         \
  template KILN_API T Config::get_positive<T>(std::string_view, T) const;                                      \
  template KILN_API T Config::get_non_negative<T>(std::string_view) const;                                     \
  template KILN_API T Config::get_non_negative<T>(std::string_view, T) const;                                  \
  template KILN_API T Config::get_in_range<T>(std::string_view, detail::element_t<T>, detail::element_t<T>,    \
                                              Bounds) const;                                                   \
  template KILN_API T Config::get_in_range<T>(std::string_view, T, detail::element_t<T>, detail::element_t<T>, \
                                              Bounds) const;
KILN_CONFIG_CHECKED_INSTANTIATE(int)
KILN_CONFIG_CHECKED_INSTANTIATE(std::int64_t)
KILN_CONFIG_CHECKED_INSTANTIATE(double)
KILN_CONFIG_CHECKED_INSTANTIATE(float)
KILN_CONFIG_CHECKED_INSTANTIATE(std::vector<std::int64_t>)
KILN_CONFIG_CHECKED_INSTANTIATE(std::vector<double>)
#undef KILN_CONFIG_CHECKED_INSTANTIATE

}  // namespace kiln
