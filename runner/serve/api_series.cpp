// kiln serve's JSON API over a run's recordings as they grow: its scalars and its images.
#include "serve/api.hpp"

#include <limits>

#include "serve/api_support.hpp"
#include "serve/json_writer.hpp"
#include "serve/run_files.hpp"
#include "store/dashboard.hpp"
#include "store/history.hpp"
#include "store/schema.hpp"

namespace kiln::runner::serve {
std::string scalars_json(store::Database& db, const std::string& ref, const ScalarsQuery& query) {
  const store::RunRef run = find_run(db, ref);
  const std::vector<std::string> tags = query.tags.empty() ? store::summary_tags(db, run.id) : query.tags;
  const std::int64_t after = query.after.value_or(std::numeric_limits<std::int64_t>::min());
  JsonWriter json;
  json.begin_object().key("run").value(run.id).key("status").value(run.status);
  bool truncated = false;
  json.key("series").begin_object();
  for (const std::string& tag : tags) {
    const store::SeriesTail tail = store::summaries_after(db, run.id, tag, after, kMaxPointsPerTag);
    truncated = truncated || tail.truncated;
    json.key(tag).begin_array();
    for (const store::Point& point : tail.points) {
      json.begin_array().value(point.step).value(point.value).end_array();
    }
    json.end_array();
  }
  json.end_object();
  json.key("step").value(last_step(db, run.id)).key("truncated").value(truncated).end_object();
  return json.take();
}

std::string images_json(store::Database& db, const std::string& ref, const std::string& tag) {
  const store::RunRef run = find_run(db, ref);
  JsonWriter json;
  json.begin_object().key("images").begin_array();
  if (store::schema_version(db) >= kImagesSince) {
    for (const store::ImageRow& image : store::run_images(db, run.id)) {
      if (!tag.empty() && image.tag != tag) continue;
      json.begin_object().key("tag").value(image.tag).key("step").value(image.step).key("url");
      if (const std::optional<std::string> inside = path_inside(run.run_dir, image.path))
        json.value("/files/" + std::to_string(run.id) + "/" + url_path(*inside));
      else
        json.null();
      json.end_object();
    }
  }
  json.end_array().end_object();
  return json.take();
}

}  // namespace kiln::runner::serve
