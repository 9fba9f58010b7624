// The supervisor's progress report: loss averages, the recent step rate, and the line that shows them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::runner {

/// An exponential moving average of one loss, per step, debiased as Adam debiases its
/// moments: the shadow starts at 0 and value() divides it by 1 - decay^n, so the first
/// values are the plain mean of what was seen rather than a number pulled towards 0.
///
///     LossAverage ema(0.98);
///     ema.add(2.0);   // ema.value() == 2.0, not 0.04
class LossAverage {
 public:
  explicit LossAverage(double decay = 0.98) : decay_(decay) {}
  /// Adds one step's value; NaN and infinities are ignored, so one bad step cannot poison it.
  void add(double value);
  /// The debiased average, or nullopt before the first finite value.
  std::optional<double> value() const;

 private:
  double decay_;
  double biased_ = 0;  // decay * biased + (1 - decay) * value, from 0
  double weight_ = 0;  // the same recurrence on 1: 1 - decay^n
};

/// The recent step rate: samples of (seconds, step) kept at least `min_interval` apart in
/// a ring of fixed size, so the rate covers about the last capacity * min_interval seconds
/// (8 s by default) and adding a sample never allocates.
class RateWindow {
 public:
  static constexpr std::size_t kCapacity = 32;

  explicit RateWindow(double min_interval = 0.25) : min_interval_(min_interval) {}
  /// Records that `step` steps were done by time `seconds` (any monotonic origin).
  void add(double seconds, std::int64_t step);
  /// Steps per second from the oldest kept sample to the latest one; nullopt until time
  /// has passed between two samples.
  std::optional<double> rate() const;

 private:
  struct Sample {
    double seconds = 0;
    std::int64_t step = 0;
  };
  double min_interval_;
  std::array<Sample, kCapacity> ring_{};
  std::size_t next_ = 0;   // where the next kept sample goes
  std::size_t count_ = 0;  // kept samples, up to kCapacity
  Sample latest_;
};

/// A rate with three significant digits and no exponent: "2345", "12.3", "0.456".
std::string format_rate(double per_second);

/// `text` cut to at most `columns` characters (UTF-8 code points, never a partial one);
/// `columns` <= 0 leaves it whole.
std::string fit_to_width(std::string_view text, int columns);

/// What one progress report says.
struct ProgressReport {
  std::int64_t step = 0;       ///< steps done
  std::int64_t max_steps = 0;
  double elapsed = 0;          ///< seconds since this process started training
  std::optional<double> rate;  ///< recent steps per second
  std::vector<std::pair<std::string, std::optional<double>>> losses;  ///< name, its average
};

/// "step 120/1000  850 steps/s  ETA 0:00:01  elapsed 0:00:00  ema mse 0.01234  l1 0.5":
/// the most useful first, so a narrow terminal cuts the least useful. The ETA is the steps
/// left at the recent rate.
std::string format_progress(const ProgressReport& report);

}  // namespace kiln::runner
