// The `synthetic_facades` dataset: CMP-Facades-style label maps and shaded "photos" of them.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/splitmix.hpp"
#include "datasets.hpp"
#include "image/image_io.hpp"

namespace kiln::plugins {
namespace {

// The CMP Facades classes, in the order of that dataset's label_names.txt.
enum Label : std::uint8_t {
  kBackground, kFacade, kWindow, kDoor, kCornice, kSill, kBalcony, kBlind, kDeco, kMolding, kPillar, kShop
};
constexpr std::uint8_t kPalette[12][3] = {
    {0, 0, 170},   {0, 0, 255},  {0, 85, 255},  {0, 170, 255}, {0, 255, 255}, {85, 255, 170},
    {170, 255, 85}, {255, 255, 0}, {255, 170, 0}, {255, 85, 0},  {255, 0, 0},   {170, 0, 0}};

struct Rgb {
  float r, g, b;
};
Rgb operator*(Rgb a, float s) { return {a.r * s, a.g * s, a.b * s}; }
Rgb operator*(Rgb a, Rgb b) { return {a.r * b.r, a.g * b.g, a.b * b.b}; }
Rgb operator+(Rgb a, Rgb b) { return {a.r + b.r, a.g + b.g, a.b + b.b}; }
Rgb mix(Rgb a, Rgb b, float t) { return a * (1.0f - t) + b * t; }

using common::splitmix_finalize;

/// A hash of a key and a position, uniform in [-1, 1): per-pixel grain and per-brick tones.
float hash_signed(std::uint64_t key, std::int64_t a, std::int64_t b) {
  const std::uint64_t position = (static_cast<std::uint64_t>(a) << 32) ^ static_cast<std::uint32_t>(b);
  const std::uint64_t h = splitmix_finalize(key ^ splitmix_finalize(position));
  return static_cast<float>(h >> 40) * 0x1.0p-23f - 1.0f;
}

/// splitmix64: small, fast, and a pure function of its seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return splitmix_finalize(state_ += common::kSplitmixGamma); }
  float uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  int integer(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1)); }
  bool chance(float p) { return uniform() < p; }
  Rgb jitter(Rgb c, float amount) {
    const float bright = 1.0f + uniform(-amount, amount);
    return Rgb{c.r * (bright + uniform(-amount, amount) * 0.5f), c.g * (bright + uniform(-amount, amount) * 0.5f),
               c.b * (bright + uniform(-amount, amount) * 0.5f)};
  }
  template <std::size_t N>
  Rgb pick(const std::array<Rgb, N>& options, float amount) { return jitter(options[next() % N], amount); }

 private:
  std::uint64_t state_;
};

/// Value noise on a lattice of cells×cells spread over the image, so it looks the same at any size.
class Noise {
 public:
  Noise(Rng& rng, int cells, int size)
      : cells_(cells), scale_(static_cast<float>(cells) / size), values_((cells + 1) * (cells + 1)) {
    for (float& v : values_) v = rng.uniform(-1.0f, 1.0f);
  }
  float at(int x, int y) const {
    const float fx = (x + 0.5f) * scale_, fy = (y + 0.5f) * scale_;
    const int ix = std::min(static_cast<int>(fx), cells_ - 1), iy = std::min(static_cast<int>(fy), cells_ - 1);
    const float tx = fx - ix, ty = fy - iy;
    const float* row0 = &values_[iy * (cells_ + 1) + ix];
    const float* row1 = row0 + cells_ + 1;
    const float top = row0[0] + (row0[1] - row0[0]) * tx, bottom = row1[0] + (row1[1] - row1[0]) * tx;
    return top + (bottom - top) * ty;
  }

 private:
  int cells_;
  float scale_;
  std::vector<float> values_;
};

struct Rect {
  int x0, y0, x1, y1;  // half-open, in pixels
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
};

/// Rounds a rectangle in pixels (as floats) to whole pixels, at least one pixel each way.
Rect to_pixels(float x0, float y0, float x1, float y1) {
  Rect r{static_cast<int>(std::lround(x0)), static_cast<int>(std::lround(y0)), static_cast<int>(std::lround(x1)),
         static_cast<int>(std::lround(y1))};
  r.x1 = std::max(r.x1, r.x0 + 1);
  r.y1 = std::max(r.y1, r.y0 + 1);
  return r;
}

/// Where a pixel lies in the rectangle being painted: relative position and edge distances.
struct Pixel {
  int x, y;
  float u, v;                      // in (0, 1) across and down the rectangle
  int left, right, top, bottom;    // whole pixels to each edge
};

/// Everything that varies from one building, and one photograph, to the next.
struct Style {
  enum class Wall { plaster, brick, blocks } wall_texture;
  Rgb wall, stone, frame, shutter, door, sign, railing, sky_top, sky_low, tint;
  bool iron_railing, rusticated;
  float light_x, light_y, exposure;
  std::uint64_t key;  // hashes per-pixel grain and per-brick tones
};

Style make_style(Rng& rng) {
  static const std::array<Rgb, 8> walls{{{0.86f, 0.80f, 0.66f}, {0.80f, 0.64f, 0.42f}, {0.84f, 0.67f, 0.58f},
                                         {0.74f, 0.73f, 0.70f}, {0.88f, 0.83f, 0.60f}, {0.90f, 0.88f, 0.84f},
                                         {0.78f, 0.70f, 0.56f}, {0.72f, 0.72f, 0.69f}}};
  static const std::array<Rgb, 4> frames{{{0.93f, 0.93f, 0.90f}, {0.95f, 0.94f, 0.88f}, {0.32f, 0.22f, 0.14f},
                                          {0.25f, 0.27f, 0.28f}}};
  static const std::array<Rgb, 5> shutters{{{0.20f, 0.36f, 0.22f}, {0.36f, 0.40f, 0.22f}, {0.42f, 0.26f, 0.14f},
                                            {0.32f, 0.42f, 0.50f}, {0.82f, 0.82f, 0.76f}}};
  static const std::array<Rgb, 4> doors{{{0.30f, 0.18f, 0.10f}, {0.16f, 0.24f, 0.18f}, {0.38f, 0.16f, 0.12f},
                                         {0.20f, 0.22f, 0.28f}}};
  static const std::array<Rgb, 4> signs{{{0.50f, 0.10f, 0.10f}, {0.10f, 0.30f, 0.20f}, {0.12f, 0.16f, 0.35f},
                                         {0.12f, 0.12f, 0.12f}}};
  Style s;
  const int texture = rng.integer(0, 9);
  s.wall_texture = texture < 7 ? Style::Wall::plaster : texture < 9 ? Style::Wall::brick : Style::Wall::blocks;
  s.wall = s.wall_texture == Style::Wall::brick ? rng.jitter({0.62f, 0.34f, 0.25f}, 0.08f) : rng.pick(walls, 0.06f);
  s.stone = mix(s.wall, rng.jitter({0.86f, 0.84f, 0.78f}, 0.04f), rng.uniform(0.5f, 0.9f));
  s.frame = rng.pick(frames, 0.04f);
  s.shutter = rng.pick(shutters, 0.08f);
  s.door = rng.pick(doors, 0.1f);
  s.sign = rng.pick(signs, 0.1f);
  s.railing = rng.jitter({0.13f, 0.13f, 0.14f}, 0.1f);
  s.sky_top = rng.jitter({0.42f, 0.60f, 0.86f}, 0.06f);
  s.sky_low = rng.jitter({0.80f, 0.86f, 0.92f}, 0.03f);
  s.tint = rng.jitter({1.0f, 1.0f, 1.0f}, 0.03f);
  s.iron_railing = rng.chance(0.6f);
  s.rusticated = rng.chance(0.35f);
  s.light_x = rng.uniform(-0.25f, 0.25f);
  s.light_y = rng.uniform(-0.2f, 0.1f);
  s.exposure = rng.uniform(0.88f, 1.06f);
  s.key = rng.next();
  return s;
}

/// The label map and the photo, drawn together one element at a time (later ones on top).
class Canvas {
 public:
  Canvas(int size, const Style& style) : size_(size), style_(style), label_(size * size), photo_(size * size) {}

  int size() const { return size_; }
  const Style& style() const { return style_; }
  Label label(int x, int y) const { return static_cast<Label>(label_[y * size_ + x]); }
  Rgb photo(int x, int y) const { return photo_[y * size_ + x]; }

  /// Labels every pixel of `rect` and sets its colour to shade(pixel, colour underneath).
  template <class Shade>
  void paint(const Rect& rect, Label label, Shade shade) {
    const int x0 = std::max(rect.x0, 0), x1 = std::min(rect.x1, size_);
    const int y0 = std::max(rect.y0, 0), y1 = std::min(rect.y1, size_);
    const float inv_w = 1.0f / rect.width(), inv_h = 1.0f / rect.height();
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        const Pixel p{x, y, (x - rect.x0 + 0.5f) * inv_w, (y - rect.y0 + 0.5f) * inv_h,
                      x - rect.x0, rect.x1 - 1 - x, y - rect.y0, rect.y1 - 1 - y};
        const int i = y * size_ + x;
        photo_[i] = shade(p, photo_[i]);
        label_[i] = label;
      }
    }
  }

  /// Darkens the wall in `height` pixels below `rect`, most at the top: a cast shadow.
  void shadow_below(const Rect& rect, float height, float strength) {
    const int rows = static_cast<int>(std::ceil(height));
    for (int y = std::max(rect.y1, 0); y < std::min(rect.y1 + rows, size_); ++y) {
      const float f = 1.0f - strength * (1.0f - (y - rect.y1) / height);
      for (int x = std::max(rect.x0, 0); x < std::min(rect.x1, size_); ++x) {
        const int i = y * size_ + x;
        if (label_[i] == kFacade || label_[i] == kPillar) photo_[i] = photo_[i] * f;
      }
    }
  }

 private:
  int size_;
  const Style& style_;
  std::vector<std::uint8_t> label_;
  std::vector<Rgb> photo_;
};

// Each element: its label, and how a photograph of it looks.

void paint_sky(Canvas& canvas, Rng& rng) {
  const Style& s = canvas.style();
  const Noise clouds(rng, 6, canvas.size());
  const float inv = 1.0f / canvas.size();
  canvas.paint({0, 0, canvas.size(), canvas.size()}, kBackground, [&](const Pixel& p, Rgb) {
    const float cloud = std::max(0.0f, clouds.at(p.x, p.y) - 0.1f) * 0.8f;
    return mix(mix(s.sky_top, s.sky_low, p.y * inv), Rgb{0.95f, 0.95f, 0.96f}, cloud);
  });
}

void paint_street(Canvas& canvas, const Rect& rect) {
  const std::uint64_t key = canvas.style().key + 1;
  canvas.paint(rect, kBackground, [&](const Pixel& p, Rgb) {
    return Rgb{0.30f, 0.30f, 0.31f} * (0.8f + 0.4f * p.v + 0.05f * hash_signed(key, p.x, p.y));
  });
}

void paint_wall(Canvas& canvas, const Rect& rect, const Rect& ground, Rng& rng) {
  const Style& s = canvas.style();
  const Noise stains(rng, 5, canvas.size()), grit(rng, 40, canvas.size());
  const int course = std::max(2, canvas.size() / 64);     // brick course height
  const int block = std::max(4, canvas.size() / 24);      // stone block height
  const Rgb mortar = Rgb{0.78f, 0.76f, 0.72f};
  canvas.paint(rect, kFacade, [&](const Pixel& p, Rgb) {
    Rgb c = s.wall * (1.0f + 0.07f * stains.at(p.x, p.y) + 0.05f * grit.at(p.x, p.y));
    c = c * (1.0f - 0.25f * std::max(0.0f, 1.0f - 12.0f * (1.0f - p.v)));  // grime near the street
    const bool rusticated = s.rusticated && p.y >= ground.y0;
    if (s.wall_texture == Style::Wall::brick) {
      const int row = p.top / course, shift = (row % 2) * course;
      const int col = (p.left + shift) / (2 * course);
      if (p.top % course == 0 || (p.left + shift) % (2 * course) == 0)
        return mortar * (0.9f + 0.05f * grit.at(p.x, p.y));
      c = c * (1.0f + 0.1f * hash_signed(s.key, row, col));
    } else if (s.wall_texture == Style::Wall::blocks || rusticated) {
      const int size = rusticated ? std::max(3, block * 2 / 3) : block;
      const int row = p.top / size, shift = (row % 2) * size * 3 / 2;
      if (p.top % size == 0) return c * 0.72f;
      if ((p.left + shift) % (size * 3) == 0) return c * 0.8f;
      c = c * (1.0f + 0.05f * hash_signed(s.key, row, (p.left + shift) / (size * 3)));
    }
    return c;
  });
}

/// A horizontal band of stone: lit on top, in shadow underneath, with dentils when thick.
void paint_cornice(Canvas& canvas, const Rect& rect, Label label = kCornice) {
  const Style& s = canvas.style();
  const int h = rect.height();
  canvas.paint(rect, label, [&](const Pixel& p, Rgb) {
    float light = 1.05f;
    if (p.top == 0 && h > 2) light = 1.18f;
    else if (p.bottom == 0 && h > 1) light = 0.55f;
    else if (h >= 6 && p.v > 0.55f && (p.x / std::max(2, h / 3)) % 2 == 0) light = 0.78f;
    return s.stone * light;
  });
  canvas.shadow_below(rect, std::max(1.5f, h * 0.8f), 0.45f);
}

void paint_sill(Canvas& canvas, const Rect& rect) {
  const Style& s = canvas.style();
  canvas.paint(rect, kSill, [&](const Pixel& p, Rgb) {
    return s.stone * (p.top == 0 ? 1.15f : p.bottom == 0 ? 0.7f : 1.0f);
  });
  canvas.shadow_below(rect, std::max(1.5f, rect.height() * 1.5f), 0.4f);
}

/// A raised stone frame: bevelled, lit from the upper left.
void paint_molding(Canvas& canvas, const Rect& rect) {
  const Style& s = canvas.style();
  canvas.paint(rect, kMolding, [&](const Pixel& p, Rgb) {
    float light = 1.02f;
    if (p.top == 0 || p.left == 0) light = 1.16f;
    else if (p.right == 0 || p.bottom == 0) light = 0.72f;
    return s.stone * light;
  });
}

void paint_pillar(Canvas& canvas, const Rect& rect) {
  const Style& s = canvas.style();
  canvas.paint(rect, kPillar, [&](const Pixel& p, Rgb) {
    const float round = std::sin(3.14159f * p.u);
    return s.stone * (0.7f + 0.4f * round + 0.1f * (0.5f - p.u));
  });
}

void paint_deco(Canvas& canvas, const Rect& rect) {
  const Style& s = canvas.style();
  canvas.paint(rect, kDeco, [&](const Pixel& p, Rgb) {
    const float du = p.u - 0.5f, dv = p.v - 0.5f, d = 4.0f * (du * du + dv * dv);
    const float relief = d < 0.8f ? 1.1f - 0.3f * d - 0.25f * (du + dv) : 0.8f;
    return s.stone * (relief + 0.06f * hash_signed(s.key + 2, p.x, p.y));
  });
}

/// A window in its recess: shaded reveal, frame, glass with a sky reflection, mullions.
void paint_window(Canvas& canvas, const Rect& rect, Rng& rng) {
  const Style& s = canvas.style();
  const float w = rect.width(), h = rect.height();
  const float reveal = std::max(0.0f, 0.07f * w), frame = std::max(w >= 5 ? 1.0f : 0.0f, 0.07f * w);
  const float reflect = rng.uniform(0.15f, 0.65f), streak = rng.uniform(-0.4f, 0.9f);
  const bool curtain = rng.chance(0.3f);
  const float transom = rng.uniform(0.25f, 0.35f);
  const Rgb dark{0.08f, 0.10f, 0.13f}, sky{0.58f, 0.66f, 0.76f};
  canvas.paint(rect, kWindow, [&](const Pixel& p, Rgb) {
    const float edge = static_cast<float>(std::min({p.left, p.right, p.top, p.bottom}));
    if (edge < reveal) return s.wall * (p.top < reveal || p.left < reveal ? 0.55f : 0.8f);
    if (edge < reveal + frame) return s.frame * (p.bottom < reveal + frame ? 0.8f : 1.0f);
    const float mid = std::abs(p.u - 0.5f) * w, bar = std::abs(p.v - transom) * h;
    if (w >= 8 && (mid < frame * 0.5f || bar < frame * 0.5f)) return s.frame * 0.95f;
    float t = reflect * std::pow(1.0f - p.v, 1.5f);
    const float d = std::abs(p.u + 0.6f * p.v - streak);
    if (d < 0.15f) t += 0.35f * (1.0f - d / 0.15f);
    Rgb glass = mix(dark, sky, std::min(t, 1.0f));
    if (curtain && (p.u < 0.22f || p.u > 0.78f)) glass = mix(glass, Rgb{0.85f, 0.80f, 0.70f}, 0.6f);
    // The lintel and the left jamb shade the top and the left of the glass.
    const float inner_top = p.top - reveal - frame, inner_left = p.left - reveal - frame;
    if (inner_top < 0.12f * h || inner_left < 0.08f * w) glass = glass * 0.6f;
    return glass;
  });
}

/// Louvred shutters: slats across, a darker border.
void paint_blind(Canvas& canvas, const Rect& rect) {
  const Style& s = canvas.style();
  const int slat = std::max(2, canvas.size() / 90);
  canvas.paint(rect, kBlind, [&](const Pixel& p, Rgb) {
    if (std::min({p.left, p.right, p.top, p.bottom}) == 0) return s.shutter * 0.65f;
    return s.shutter * (0.78f + 0.35f * static_cast<float>(p.top % slat) / slat);
  });
}

void paint_door(Canvas& canvas, const Rect& rect, Rng& rng) {
  const Style& s = canvas.style();
  const float glass_top = rng.chance(0.5f) ? 0.25f : 0.0f;
  const float w = rect.width(), h = rect.height(), border = std::max(1.0f, 0.1f * w);
  canvas.paint(rect, kDoor, [&](const Pixel& p, Rgb) {
    if (p.left < border || p.right < border || p.top < border) return s.frame * 0.8f;
    if (p.v < glass_top) return mix(Rgb{0.08f, 0.1f, 0.12f}, Rgb{0.5f, 0.56f, 0.62f}, 0.4f * (1.0f - p.v / glass_top));
    // Two columns of three recessed panels, shadowed along their top and left edges; wood grain.
    const float pu = std::fmod(p.u * 2.0f, 1.0f), pv = std::fmod((p.v - glass_top) / (1.0f - glass_top) * 3.0f, 1.0f);
    const bool panel_edge = (pu > 0.15f && pu < 0.85f) && (pv > 0.1f && pv < 0.9f) &&
                            (pu < 0.15f + 1.5f / w || pv < 0.1f + 1.5f / h);
    const float grain = 0.06f * hash_signed(s.key + 3, p.x, 0);
    return s.door * ((panel_edge ? 0.6f : 1.0f) + grain);
  });
}

/// A shop front: a sign with lettering, then display glass in a metal frame: the street
/// reflected at the top, lit goods behind.
void paint_shop(Canvas& canvas, const Rect& rect, Rng& rng) {
  const Style& s = canvas.style();
  const float w = rect.width(), h = rect.height(), frame = std::max(1.0f, 0.035f * w);
  const float sign = 0.2f * h, letter = std::max(2.0f, 0.45f * sign);
  const Noise goods(rng, 48, canvas.size());
  const std::uint64_t text = rng.next();
  canvas.paint(rect, kShop, [&](const Pixel& p, Rgb) {
    if (p.top < sign) {
      const float row = (p.top - 0.25f * sign) / (0.5f * sign);
      const int cell = static_cast<int>(p.left / letter);
      const bool lettering = row > 0.0f && row < 1.0f && p.left % static_cast<int>(letter) != 0 &&
                             cell > 0 && (cell + 1) * letter < w && hash_signed(text, cell, 0) > -0.4f;
      if (lettering) return Rgb{0.92f, 0.88f, 0.75f};
      return s.sign * (p.top == 0 || p.top + 1 >= sign ? 0.6f : 1.0f);
    }
    const float inner_top = p.top - sign;
    if (p.left < frame || p.right < frame || inner_top < frame || std::abs(p.u - 0.5f) * w < frame * 0.5f)
      return Rgb{0.2f, 0.2f, 0.21f} * (p.left < frame ? 1.2f : 1.0f);
    const float v = inner_top / (h - sign);
    const float lit = std::max(0.0f, goods.at(p.x, p.y) - 0.35f) * 1.4f * v;
    Rgb glass = mix(Rgb{0.07f, 0.075f, 0.085f}, Rgb{0.9f, 0.8f, 0.6f}, std::min(0.7f, 0.08f + lit));
    if (v < 0.3f) glass = mix(glass, Rgb{0.55f, 0.6f, 0.66f}, 0.5f * (1.0f - v / 0.3f));
    return glass;
  });
}

/// A railing over whatever is behind it: a stone slab, a top rail and balusters.
void paint_balcony(Canvas& canvas, const Rect& rect) {
  const Style& s = canvas.style();
  const float h = rect.height();
  const int pitch = std::max(3, canvas.size() / 60);
  const Rgb bars = s.iron_railing ? s.railing : s.stone * 0.95f;
  canvas.paint(rect, kBalcony, [&](const Pixel& p, Rgb behind) {
    if (p.bottom < std::max(1.0f, 0.22f * h)) return s.stone * (p.bottom == 0 ? 0.6f : 0.95f);
    if (p.top < std::max(1.0f, 0.12f * h)) return bars * 1.1f;
    if (p.x % pitch < (s.iron_railing ? 1 : pitch / 2 + 1))
      return bars * (s.iron_railing ? 1.0f : 0.85f + 0.3f * p.v);
    return behind * 0.6f;
  });
  canvas.shadow_below(rect, std::max(2.0f, h * 0.5f), 0.45f);
}

/// A whole building: where each element goes, then each painted in a fixed order.
void draw_building(Canvas& canvas, Rng& rng) {
  const float n = static_cast<float>(canvas.size());
  paint_sky(canvas, rng);
  const float top = rng.chance(0.8f) ? rng.uniform(0.02f, 0.14f) * n : 0.0f;
  const float left = rng.chance(0.25f) ? rng.uniform(0.01f, 0.08f) * n : 0.0f;
  const float right = rng.chance(0.25f) ? rng.uniform(0.01f, 0.08f) * n : 0.0f;
  const float street = rng.chance(0.2f) ? rng.uniform(0.02f, 0.05f) * n : 0.0f;
  const float x0 = left, x1 = n - right, y1 = n - street;
  if (street > 0) paint_street(canvas, to_pixels(0, y1, n, n));

  const int floors = rng.integer(3, 6), columns = rng.integer(3, 7);
  const float ground_share = rng.uniform(1.15f, 1.5f);
  const bool main_cornice = rng.chance(0.85f);
  const float cornice_h = main_cornice ? rng.uniform(0.02f, 0.045f) * n : 0.0f;
  const float floors_top = top + cornice_h;
  const float floor_h = (y1 - floors_top) / (floors - 1 + ground_share);
  const float ground_y = floors_top + (floors - 1) * floor_h;
  const float margin = rng.uniform(0.03f, 0.1f) * (x1 - x0), pitch = (x1 - x0 - 2 * margin) / columns;
  const float win_w = pitch * rng.uniform(0.38f, 0.6f), win_h = floor_h * rng.uniform(0.5f, 0.66f);
  const float win_drop = rng.uniform(0.3f, 0.55f) * (floor_h - win_h);
  const bool sills = rng.chance(0.75f), moldings = rng.chance(0.45f), shutters = rng.chance(0.3f);
  const bool courses = rng.chance(0.5f), decos = rng.chance(0.3f), pilasters = rng.chance(0.25f);
  const bool shops = rng.chance(0.4f);
  const int balconies = rng.integer(0, 2);  // none, one per window, one along the floor
  const float thin = std::max(1.0f, 0.012f * n);

  const Rect ground = to_pixels(x0, ground_y, x1, y1);
  paint_wall(canvas, to_pixels(x0, top, x1, y1), ground, rng);
  if (main_cornice) paint_cornice(canvas, to_pixels(x0, top, x1, floors_top));
  if (pilasters) {
    const float w = 0.35f * margin + 0.01f * n;
    paint_pillar(canvas, to_pixels(x0 + 0.2f * margin, floors_top, x0 + 0.2f * margin + w, ground_y));
    paint_pillar(canvas, to_pixels(x1 - 0.2f * margin - w, floors_top, x1 - 0.2f * margin, ground_y));
  }

  // A window with what the building puts around it; a balcony when its floor has them.
  auto window = [&](float cx, float wy, float ww, float wh, bool balcony) {
    cx += rng.uniform(-0.004f, 0.004f) * n;
    const Rect r = to_pixels(cx - ww / 2, wy, cx + ww / 2, wy + wh);
    if (moldings) paint_molding(canvas, to_pixels(cx - ww * 0.62f, wy - wh * 0.14f, cx + ww * 0.62f, wy + wh));
    if (decos && wy < floors_top + floor_h)
      paint_deco(canvas, to_pixels(cx - ww * 0.3f, wy - wh * 0.3f, cx + ww * 0.3f, wy - wh * 0.15f));
    if (shutters && rng.chance(0.9f)) {
      paint_blind(canvas, to_pixels(cx - ww * 0.95f, wy, cx - ww / 2, wy + wh));
      paint_blind(canvas, to_pixels(cx + ww / 2, wy, cx + ww * 0.95f, wy + wh));
    }
    if (shutters && rng.chance(0.1f)) paint_blind(canvas, r);
    else paint_window(canvas, r, rng);
    if (sills) paint_sill(canvas, to_pixels(cx - ww * 0.6f, wy + wh, cx + ww * 0.6f, wy + wh + thin));
    if (balcony)
      paint_balcony(canvas, to_pixels(cx - ww * 0.68f, wy + wh * 0.66f, cx + ww * 0.68f, wy + wh + 0.02f * n));
  };

  for (int f = 0; f + 1 < floors; ++f) {
    const float fy = floors_top + f * floor_h;
    if (courses && f > 0) paint_cornice(canvas, to_pixels(x0, fy, x1, fy + thin));
    const bool balcony_floor = balconies != 0 && (f + 2 == floors || rng.chance(0.35f));
    const float wh = f == 0 && floors > 3 && rng.chance(0.3f) ? win_h * 0.75f : win_h;
    for (int c = 0; c < columns; ++c) {
      if (rng.chance(0.03f)) continue;  // a blank bay
      window(x0 + margin + (c + 0.5f) * pitch, fy + win_drop, win_w, wh, balcony_floor && balconies == 1);
    }
    if (balcony_floor && balconies == 2)
      paint_balcony(canvas, to_pixels(x0 + 0.5f * margin, fy + win_drop + wh * 0.66f, x1 - 0.5f * margin,
                                       fy + win_drop + wh + 0.02f * n));
  }

  // The ground floor: a band above it, shop fronts or windows, and the doors.
  const float ground_h = y1 - ground_y;
  if (courses || rng.chance(0.6f)) paint_cornice(canvas, to_pixels(x0, ground_y, x1, ground_y + 1.5f * thin));
  const int door = rng.chance(0.5f) ? columns / 2 : rng.integer(0, columns - 1);
  const int second_door = rng.chance(0.25f) ? rng.integer(0, columns - 1) : -1;
  const float door_w = std::min(pitch * 0.8f, win_w * rng.uniform(1.0f, 1.35f));
  const float door_h = ground_h * rng.uniform(0.68f, 0.85f);
  for (int c = 0; c < columns; ++c) {
    const float cx = x0 + margin + (c + 0.5f) * pitch;
    if (c == door || c == second_door) {
      paint_door(canvas, to_pixels(cx - door_w / 2, y1 - door_h, cx + door_w / 2, y1), rng);
    } else if (shops) {
      paint_shop(canvas, to_pixels(cx - pitch * 0.45f, ground_y + ground_h * 0.1f, cx + pitch * 0.45f, y1), rng);
    } else {
      window(cx, ground_y + ground_h * 0.22f, win_w, ground_h * rng.uniform(0.5f, 0.6f), false);
    }
  }
}

std::uint64_t split_stream(const Config& config) {
  return config.get_choice("split", "train", {"train", "test"}) == "train" ? 0x747261696eULL : 0x74657374ULL;
}

}  // namespace

SyntheticFacades::SyntheticFacades(const Config& config)
    : size_(config.get_positive<std::int64_t>("size", 400)),
      image_size_(config.get_in_range<std::int64_t>("image_size", 256, 16, 4096)),
      load_size_(config.get_or<std::int64_t>("load_size", image_size_)),
      flip_(config.get_or<bool>("flip", true)),
      stream_(splitmix_finalize(static_cast<std::uint64_t>(config.get_or<std::int64_t>("data_seed", 0))) ^
              split_stream(config)) {
  if (load_size_ < image_size_ || load_size_ > 4096)
    config.fail("load_size", fmt::format("must be between image_size ({}) and 4096, got {}", image_size_, load_size_));
}

Example SyntheticFacades::get(std::int64_t index, std::uint64_t seed) const {
  if (index < 0 || index >= size_)
    throw Error(fmt::format("synthetic_facades: index {} is out of range (size {})", index, size_));
  Rng rng(splitmix_finalize(stream_ ^ splitmix_finalize(static_cast<std::uint64_t>(index))));
  const Style style = make_style(rng);
  Canvas canvas(static_cast<int>(load_size_), style);
  draw_building(canvas, rng);

  // Crop, flip, light and grain the photo, and write both images as [-1, 1] planes.
  const auto jitter = image::Jitter::from_seed(seed, load_size_, image_size_, flip_);
  const int size = static_cast<int>(image_size_), plane = size * size;
  torch::Tensor input = torch::empty({3, image_size_, image_size_}, torch::kFloat);
  torch::Tensor target = torch::empty({3, image_size_, image_size_}, torch::kFloat);
  float* in = input.data_ptr<float>();
  float* out = target.data_ptr<float>();
  const float inv = 1.0f / static_cast<float>(load_size_);
  for (int y = 0; y < size; ++y) {
    const int sy = y + static_cast<int>(jitter.y);
    for (int x = 0; x < size; ++x) {
      const int sx = static_cast<int>(jitter.x) + (jitter.flip ? size - 1 - x : x);
      const int i = y * size + x;
      const std::uint8_t* color = kPalette[canvas.label(sx, sy)];
      const float light =
          style.exposure * (1.0f + style.light_x * (sx * inv - 0.5f) + style.light_y * (sy * inv - 0.5f));
      const float grain = 0.03f * hash_signed(style.key, sx, sy);
      const Rgb c = canvas.photo(sx, sy) * style.tint * light;
      const float rgb[3] = {c.r, c.g, c.b};
      for (int ch = 0; ch < 3; ++ch) {
        in[ch * plane + i] = image::to_signed(color[ch]);
        out[ch * plane + i] = std::clamp(2.0f * (rgb[ch] + grain) - 1.0f, -1.0f, 1.0f);
      }
    }
  }
  Example example("example");
  example.set("input", input);
  example.set("target", target);
  return example;
}

}  // namespace kiln::plugins
