// Image summaries in the report: the latest and a few earlier images of each run and tag.
#include "report/images.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <system_error>
#include <tuple>

#include <fmt/format.h>

#include "report/html.hpp"
#include "report/sections.hpp"

namespace kiln::runner::report {
namespace {

// Small images are shown enlarged (by a whole factor, pixelated) to about this width.
constexpr int kShownWidth = 240;

}  // namespace

std::vector<std::size_t> pick_images(std::size_t available, std::size_t count) {
  std::vector<std::size_t> out;
  if (available == 0 || count == 0) return out;
  if (count == 1) return {available - 1};
  const std::size_t n = std::min(available, count);
  for (std::size_t i = 0; i < n; ++i) {
    // Rounded to the nearest image, so the spacing is even and the last pick is the latest.
    const std::size_t index = (i * (available - 1) * 2 + (n - 1)) / (2 * (n - 1));
    if (out.empty() || out.back() != index) out.push_back(index);
  }
  return out;
}

EmbeddedImage load_image(const std::filesystem::path& path, std::int64_t max_bytes) {
  EmbeddedImage image;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    image.problem = std::filesystem::exists(path, ec) ? "file cannot be read" : "file missing";
    return image;
  }
  image.bytes = static_cast<std::int64_t>(size);
  if (image.bytes > max_bytes) {
    image.problem = fmt::format("too large to embed ({})", format_bytes(image.bytes));
    return image;
  }
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    image.problem = "file cannot be read";
    return image;
  }
  const std::string mime = image_mime(bytes);
  if (mime.empty()) {
    image.problem = "not a PNG or JPEG file";
    return image;
  }
  if (const auto dimensions = png_size(bytes)) std::tie(image.width, image.height) = *dimensions;
  image.uri = data_uri(mime, bytes);
  return image;
}

namespace detail {
namespace {

std::string figure(Context& context, const RunData& run, const ImageRow& row, bool latest, std::int64_t& budget) {
  const std::string caption = fmt::format("<figcaption>step {}{}</figcaption>", row.step, latest ? " (latest)" : "");
  EmbeddedImage image = load_image(row.path, context.options.max_image_bytes);
  if (image.problem.empty() && image.bytes > budget)
    image.problem = fmt::format("not embedded: the report's image budget ({}) is used up",
                                format_bytes(context.options.image_budget));
  if (!image.problem.empty())
    return fmt::format("<figure><div class=\"missing\">{}: {}</div>{}</figure>", escape(image.problem),
                       escape(row.path), caption);
  budget -= image.bytes;
  ++context.page.images_embedded;
  std::string size;
  if (image.width > 0) {
    const int scale = std::clamp(kShownWidth / image.width, 1, 4);
    size = fmt::format(" width=\"{}\" height=\"{}\"", image.width * scale, image.height * scale);
  }
  return fmt::format("<figure><img class=\"summary\" src=\"{}\"{} alt=\"{}\" title=\"{}\">{}</figure>", image.uri, size,
                     escape(fmt::format("{} {} step {}", run.info.name, row.tag, row.step)), escape(row.path), caption);
}

}  // namespace

std::string images_section(Context& context) {
  std::set<std::string> tags;
  for (const RunData& run : context.runs()) {
    context.page.images_recorded += run.images.size();
    for (const ImageRow& row : run.images) tags.insert(row.tag);
  }
  std::string out = "<section id=\"images\"><h2>Images</h2>";
  if (tags.empty()) return out + "<p class=\"note\">No image summaries were recorded for these runs.</p></section>";
  out += fmt::format("<p class=\"note\">For each run and tag, the latest image and up to {} earlier ones.</p>",
                     context.options.images_per_tag - 1);
  std::int64_t budget = context.options.image_budget;
  for (const std::string& tag : tags) {
    out += fmt::format("<h3>{}</h3>", escape(tag));
    for (std::size_t r = 0; r < context.runs().size(); ++r) {
      std::vector<const ImageRow*> rows;
      for (const ImageRow& row : context.runs()[r].images)
        if (row.tag == tag) rows.push_back(&row);
      if (rows.empty()) continue;
      const std::vector<std::size_t> picked = pick_images(rows.size(), context.options.images_per_tag);
      out += fmt::format(
          "<div class=\"image-run\"><div class=\"image-head\">{} <span class=\"note\">{} image{} recorded, "
          "steps {} to {}",
          run_label(context, r), rows.size(), rows.size() == 1 ? "" : "s", rows.front()->step, rows.back()->step);
      if (picked.size() < rows.size()) out += fmt::format("; {} of them not shown", rows.size() - picked.size());
      out += "</span></div><div class=\"shots\">";
      for (const std::size_t i : picked)
        out += figure(context, context.runs()[r], *rows[i], /*latest=*/i + 1 == rows.size(), budget);
      out += "</div></div>";
    }
  }
  return out + "</section>";
}

}  // namespace detail
}  // namespace kiln::runner::report
