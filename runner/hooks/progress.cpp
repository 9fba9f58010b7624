// The supervisor's progress report: loss averages, the recent step rate, and the line that shows them.
#include "hooks/progress.hpp"

#include <cmath>

#include <fmt/format.h>

#include "report/format.hpp"

namespace kiln::runner {

void LossAverage::add(double value) {
  if (!std::isfinite(value)) return;
  biased_ = decay_ * biased_ + (1 - decay_) * value;
  weight_ = decay_ * weight_ + (1 - decay_);
}

std::optional<double> LossAverage::value() const {
  if (weight_ <= 0) return std::nullopt;
  return biased_ / weight_;
}

void RateWindow::add(double seconds, std::int64_t step) {
  latest_ = {seconds, step};
  const Sample& newest = ring_[(next_ + kCapacity - 1) % kCapacity];
  if (count_ > 0 && seconds - newest.seconds < min_interval_) return;
  ring_[next_] = latest_;
  next_ = (next_ + 1) % kCapacity;
  if (count_ < kCapacity) ++count_;
}

std::optional<double> RateWindow::rate() const {
  if (count_ == 0) return std::nullopt;
  const Sample& oldest = ring_[(next_ + kCapacity - count_) % kCapacity];
  const double seconds = latest_.seconds - oldest.seconds;
  if (!(seconds > 0)) return std::nullopt;
  return static_cast<double>(latest_.step - oldest.step) / seconds;
}

std::string format_rate(double per_second) {
  if (per_second >= 99.95) return fmt::format("{:.0f}", per_second);
  if (per_second >= 9.995) return fmt::format("{:.1f}", per_second);
  if (per_second >= 0.9995) return fmt::format("{:.2f}", per_second);
  return fmt::format("{:.3f}", per_second);
}

std::string fit_to_width(std::string_view text, int columns) {
  if (columns <= 0) return std::string(text);
  int seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    // A code point starts at every byte that is not a UTF-8 continuation byte (10xxxxxx).
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (seen++ == columns) return std::string(text.substr(0, i));
  }
  return std::string(text);
}

std::string format_progress(const ProgressReport& report) {
  std::string line = fmt::format("step {}/{}", report.step, report.max_steps);
  if (report.rate) {
    const double left = static_cast<double>(report.max_steps - report.step);
    line += fmt::format("  {} steps/s  ETA {}", format_rate(*report.rate),
                        report::format_clock(*report.rate > 0 ? left / *report.rate : -1));
  } else {
    line += fmt::format("  ETA {}", report::format_clock(-1));
  }
  line += fmt::format("  elapsed {}", report::format_clock(report.elapsed));
  const char* label = "  ema ";
  for (const auto& [name, value] : report.losses) {
    if (!value) continue;
    line += fmt::format("{}{} {:.5g}", label, name, *value);
    label = "  ";
  }
  return line;
}

}  // namespace kiln::runner
