// kiln serve's JSON API end to end: real runs, a real `kiln serve`, every endpoint's values
// checked against the database read with SQLite directly.
#include <cctype>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"
#include "serve_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

/// experiments/pix2pix.toml at 32×32 for 4 steps: evaluated and an image grid every 2 steps,
/// a checkpoint every 2 of which the newest stays.
std::vector<std::string> tiny_pix2pix() {
  return small_pix2pix_run(4, {"saver.every_steps=2", "saver.max_to_keep=1", "hooks.evaluate.every_steps=2",
                               "hooks.evaluate.count=4", "hooks.image_summaries.every_steps=2",
                               "hooks.image_summaries.count=2", "supervisor.summary_every_steps=1"});
}

/// mlp_experiment() named `name`, with `extra` lines in [experiment].
std::string named_mlp(const std::string& name, const std::string& extra) {
  return replace_once(mlp_experiment(), "name = \"t\"\n", "name = \"" + name + "\"\n" + extra);
}

/// `text` with every byte but letters and digits percent-encoded, for a query parameter.
std::string encoded(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte)) {
      out += c;
    } else {
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 15];
    }
  }
  return out;
}

/// The reals of the first column of `sql`, read back exactly (SQLite's text of a real keeps
/// 15 digits, its printf's %.17g is not exact either).
std::vector<double> sql_doubles(const fs::path& db, const std::string& sql) {
  sqlite3* connection = nullptr;
  sqlite3_stmt* statement = nullptr;
  std::vector<double> out;
  if (sqlite3_open_v2(db.c_str(), &connection, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(connection, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK)
    while (sqlite3_step(statement) == SQLITE_ROW) out.push_back(sqlite3_column_double(statement, 0));
  sqlite3_finalize(statement);
  sqlite3_close(connection);
  if (out.empty()) throw std::runtime_error("no rows: " + sql);
  return out;
}

double sql_double(const fs::path& db, const std::string& sql) { return sql_doubles(db, sql).at(0); }

/// Three runs made once for every test here: 1 pix2pix (eval/l1, images, checkpoints),
/// 2 mlp-a (tags "baseline" and "small"), 3 mlp-b (another learning rate, no tags).
class serve_api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const KilnResult pix2pix = run_kiln(tiny_pix2pix(), dir_->path());
    ASSERT_EQ(pix2pix.exit_code(), 0) << pix2pix.describe();
    write_text(*dir_, "a.toml", named_mlp("mlp-a", "tags = [\"baseline\", \"small\"]\n"));
    write_text(*dir_, "b.toml", replace_once(named_mlp("mlp-b", ""), "lr = 1e-2", "lr = 3e-3"));
    for (const char* file : {"a.toml", "b.toml"}) {
      const KilnResult mlp = run_kiln({"run", file}, dir_->path());
      ASSERT_EQ(mlp.exit_code(), 0) << mlp.describe();
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(dir_, nullptr);
    ASSERT_EQ(sql_value(db_, "SELECT group_concat(name) FROM (SELECT name FROM runs ORDER BY id)"), "pix2pix,mlp-a,mlp-b");
  }

  static TempDir* dir_;
  const fs::path db_ = dir_->path() / "runs/kiln.db";
  ServeProcess serve_{dir_->path()};
};

TempDir* serve_api::dir_ = nullptr;

TEST_F(serve_api, an_unknown_run_is_a_404_naming_it) {
  for (const char* path : {"/api/runs/nope", "/api/runs/nope/scalars", "/api/runs/99/images"}) {
    const JsonValue answer = json_of(serve_.get(path), 404);
    EXPECT_THAT(answer["error"].string(), StartsWith("no run named '")) << path;
  }
  EXPECT_EQ(json_of(serve_.get("/api/nothing"), 404)["error"].string(), "no such page: GET /api/nothing");
}

TEST_F(serve_api, bad_parameters_are_400s) {
  EXPECT_EQ(json_of(serve_.get("/api/runs?status=finished"), 400)["error"].string(),
            "status 'finished' is none of running, completed, stopped, failed, crashed");
  EXPECT_EQ(json_of(serve_.get("/api/runs/1/scalars?after=two"), 400)["error"].string(),
            "after must be an integer, got 'two'");
}

TEST_F(serve_api, runs_lists_every_run_newest_first_with_its_values) {
  const JsonValue runs = json_of(serve_.get("/api/runs"))["runs"];
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0]["id"].integer(), 3);
  EXPECT_EQ(runs[1]["id"].integer(), 2);
  const JsonValue& pix = runs[2];
  EXPECT_EQ(pix["id"].integer(), 1);
  EXPECT_EQ(pix["name"].string(), "pix2pix");
  EXPECT_EQ(pix["status"].string(), "completed");
  EXPECT_EQ(pix["experiment"].string(), sql_value(db_, "SELECT experiment FROM runs WHERE id = 1"));
  EXPECT_EQ(pix["started"].number(), sql_double(db_, "SELECT started FROM runs WHERE id = 1"));
  EXPECT_EQ(pix["ended"].number(), sql_double(db_, "SELECT ended FROM runs WHERE id = 1"));
  EXPECT_EQ(pix["step"].integer(), 4);
  EXPECT_EQ(pix["max_steps"].integer(), 4);
  EXPECT_THAT(pix["tags"].strings(), IsEmpty());
  EXPECT_EQ(pix["device"].string(), "cpu");
  EXPECT_EQ(pix["world_size"].integer(), 1);
  EXPECT_TRUE(pix["error"].is_null());
  // The best eval/l1 is the lowest, at the first step that reached it.
  ASSERT_EQ(pix["best"].keys(), std::vector<std::string>{"eval/l1"});
  const JsonValue& best = pix["best"]["eval/l1"];
  const std::string lowest = "SELECT value FROM summaries WHERE run_id = 1 AND tag = 'eval/l1' ORDER BY value, step LIMIT 1";
  EXPECT_EQ(best["value"].number(), sql_double(db_, lowest));
  EXPECT_EQ(best["step"].integer(),
            std::stoll(sql_value(db_, "SELECT step FROM summaries WHERE run_id = 1 AND tag = 'eval/l1' ORDER BY value, "
                                      "step LIMIT 1")));
  EXPECT_EQ(best["direction"].string(), "min");

  const JsonValue& mlp_a = runs[1];
  EXPECT_EQ(mlp_a["name"].string(), "mlp-a");
  EXPECT_THAT(mlp_a["tags"].strings(), ElementsAre("baseline", "small"));
  EXPECT_EQ(mlp_a["step"].integer(), 20);
  EXPECT_EQ(mlp_a["max_steps"].integer(), 20);
  EXPECT_EQ(mlp_a["best"].size(), 0u);
}

TEST_F(serve_api, runs_filter_by_status_name_and_tag) {
  const auto names = [&](const std::string& query) {
    std::vector<std::string> out;
    const JsonValue answer = json_of(serve_.get("/api/runs" + query));
    for (const JsonValue& run : answer["runs"].items()) out.push_back(run["name"].string());
    return out;
  };
  EXPECT_THAT(names("?tag=baseline"), ElementsAre("mlp-a"));
  EXPECT_THAT(names("?tag=small&name=mlp"), ElementsAre("mlp-a"));
  EXPECT_THAT(names("?tag=nothing"), IsEmpty());
  EXPECT_THAT(names("?name=mlp-*"), ElementsAre("mlp-b", "mlp-a"));
  EXPECT_THAT(names("?name=pix"), ElementsAre("pix2pix"));  // a substring
  EXPECT_THAT(names("?name=mlp-%3F"), ElementsAre("mlp-b", "mlp-a"));  // mlp-? as a glob
  EXPECT_THAT(names("?status=completed"), ElementsAre("mlp-b", "mlp-a", "pix2pix"));
  EXPECT_THAT(names("?status=failed"), IsEmpty());
}

TEST_F(serve_api, one_run_in_full_by_name_or_id) {
  const httplib::Result by_name = serve_.get("/api/runs/pix2pix");
  const JsonValue answer = json_of(by_name);
  EXPECT_EQ(by_name->body, serve_.get("/api/runs/1")->body);
  const JsonValue& run = answer["run"];
  EXPECT_EQ(run["name"].string(), "pix2pix");
  EXPECT_EQ(run["step"].integer(), 4);
  EXPECT_EQ(run["run_dir"].string(), sql_value(db_, "SELECT run_dir FROM runs WHERE id = 1"));
  EXPECT_EQ(run["host"].string(), sql_value(db_, "SELECT host FROM runs WHERE id = 1"));
  EXPECT_EQ(run["kiln_version"].string(), sql_value(db_, "SELECT kiln_version FROM runs WHERE id = 1"));
  EXPECT_EQ(answer["config"].string(), sql_value(db_, "SELECT config FROM runs WHERE id = 1"));

  const JsonValue& params = answer["params"];
  EXPECT_EQ(params.size(), std::stoul(sql_value(db_, "SELECT count(*) FROM params WHERE run_id = 1")));
  for (const auto& row : sql_rows(db_, "SELECT key, value FROM params WHERE run_id = 1"))
    EXPECT_EQ(params[row[0]].string(), row[1]) << row[0];
  EXPECT_EQ(params["experiment.max_steps"].string(), "4");

  std::vector<std::string> tags;
  for (const auto& row : sql_rows(db_, "SELECT DISTINCT tag FROM summaries WHERE run_id = 1 ORDER BY tag"))
    tags.push_back(row[0]);
  EXPECT_THAT(answer["tags"].strings(), ElementsAreArray(tags));
  EXPECT_THAT(answer["tags"].strings(), testing::Contains("eval/l1"));
  EXPECT_THAT(answer["image_tags"].strings(), ElementsAre("images/eval"));

  // Checkpoints at 2 and 4, the newest kept; the older one deleted.
  const JsonValue& checkpoints = answer["checkpoints"];
  const auto rows = sql_rows(db_, "SELECT step, path, bytes, reason, COALESCE(kept, 'NULL'), deleted IS NULL "
                                  "FROM checkpoints WHERE run_id = 1 ORDER BY step");
  ASSERT_EQ(checkpoints.size(), rows.size());
  ASSERT_EQ(rows.size(), 2u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(checkpoints[i]["step"].integer(), std::stoll(rows[i][0]));
    EXPECT_EQ(checkpoints[i]["path"].string(), rows[i][1]);
    EXPECT_EQ(checkpoints[i]["bytes"].integer(), std::stoll(rows[i][2]));
    EXPECT_EQ(checkpoints[i]["reason"].string(), rows[i][3]);
    EXPECT_EQ(checkpoints[i]["kept"].is_null() ? "NULL" : checkpoints[i]["kept"].string(), rows[i][4]);
    EXPECT_EQ(checkpoints[i]["deleted"].is_null(), rows[i][5] == "1");
  }
  EXPECT_TRUE(checkpoints[0]["kept"].is_null());
  EXPECT_FALSE(checkpoints[0]["deleted"].is_null());
  EXPECT_EQ(checkpoints[1]["kept"].string(), "max_to_keep");

  const JsonValue& events = answer["events"];
  const auto event_rows = sql_rows(db_, "SELECT kind, COALESCE(step, 'NULL'), COALESCE(message, '') FROM events "
                                        "WHERE run_id = 1 ORDER BY time, id");
  ASSERT_EQ(events.size(), event_rows.size());
  for (std::size_t i = 0; i < event_rows.size(); ++i) {
    EXPECT_EQ(events[i]["kind"].string(), event_rows[i][0]);
    EXPECT_EQ(events[i]["step"].is_null() ? "NULL" : std::to_string(events[i]["step"].integer()), event_rows[i][1]);
    EXPECT_EQ(events[i]["message"].string(), event_rows[i][2]);
    EXPECT_GT(events[i]["time"].number(), 1e9);
  }
}

TEST_F(serve_api, scalars_are_every_row_or_those_after_a_step) {
  const JsonValue all = json_of(serve_.get("/api/runs/pix2pix/scalars"));
  EXPECT_EQ(all["run"].integer(), 1);
  EXPECT_EQ(all["status"].string(), "completed");
  EXPECT_EQ(all["step"].integer(), 4);
  EXPECT_FALSE(all["truncated"].boolean());
  const auto tags = sql_rows(db_, "SELECT DISTINCT tag FROM summaries WHERE run_id = 1 ORDER BY tag");
  ASSERT_EQ(all["series"].size(), tags.size());
  for (const auto& tag : tags) {
    const std::string where = " FROM summaries WHERE run_id = 1 AND tag = '" + tag[0] + "' ORDER BY step";
    const auto steps = sql_rows(db_, "SELECT step" + where);
    const std::vector<double> values = sql_doubles(db_, "SELECT value" + where);
    const JsonValue& series = all["series"][tag[0]];
    ASSERT_EQ(series.size(), steps.size()) << tag[0];
    for (std::size_t i = 0; i < steps.size(); ++i) {
      EXPECT_EQ(series[i][0].integer(), std::stoll(steps[i][0])) << tag[0];
      EXPECT_EQ(series[i][1].number(), values[i]) << tag[0];
    }
  }

  const JsonValue after = json_of(serve_.get("/api/runs/1/scalars?after=2&tags=eval/l1,loss/l1"));
  EXPECT_EQ(after["series"].keys(), (std::vector<std::string>{"eval/l1", "loss/l1"}));
  for (const char* tag : {"eval/l1", "loss/l1"}) {
    const auto rows = sql_rows(db_, std::string("SELECT step FROM summaries WHERE run_id = 1 AND step > 2 AND tag = '") +
                                        tag + "' ORDER BY step");
    ASSERT_FALSE(rows.empty()) << tag;
    ASSERT_EQ(after["series"][tag].size(), rows.size()) << tag;
    for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(after["series"][tag][i][0].integer(), std::stoll(rows[i][0]));
  }
  // Nothing after the last step: empty series, which a page polling a finished run gets.
  const JsonValue none = json_of(serve_.get("/api/runs/1/scalars?after=4&tags=loss/l1"));
  EXPECT_EQ(none["series"]["loss/l1"].size(), 0u);
}

TEST_F(serve_api, images_have_urls_that_serve_their_files) {
  const JsonValue images = json_of(serve_.get("/api/runs/pix2pix/images"))["images"];
  const auto rows = sql_rows(db_, "SELECT tag, step, path FROM images WHERE run_id = 1 ORDER BY tag, step");
  ASSERT_EQ(images.size(), rows.size());
  ASSERT_EQ(rows.size(), 3u);  // steps 0, 2 and 4
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(images[i]["tag"].string(), rows[i][0]);
    EXPECT_EQ(images[i]["step"].integer(), std::stoll(rows[i][1]));
    const std::string url = images[i]["url"].string();
    EXPECT_EQ(url, "/files/1/images/" + fs::path(rows[i][2]).filename().string());
    const httplib::Result file = serve_.get(url);
    ASSERT_TRUE(file);
    EXPECT_EQ(file->status, 200) << url << ": " << file->body;
    EXPECT_EQ(file->get_header_value("Content-Type"), "image/png");
    EXPECT_EQ(file->body, read_file(dir_->path() / rows[i][2])) << url;
  }
  EXPECT_EQ(json_of(serve_.get("/api/runs/1/images?tag=images/eval"))["images"].size(), 3u);
  EXPECT_EQ(json_of(serve_.get("/api/runs/1/images?tag=images/none"))["images"].size(), 0u);
  EXPECT_EQ(json_of(serve_.get("/api/runs/mlp-a/images"))["images"].size(), 0u);
}

TEST_F(serve_api, compare_gives_the_differences_and_every_tag) {
  const JsonValue answer = json_of(serve_.get("/api/compare?runs=mlp-a,3"));
  ASSERT_EQ(answer["runs"].size(), 2u);
  EXPECT_EQ(answer["runs"][0]["name"].string(), "mlp-a");
  EXPECT_EQ(answer["runs"][1]["name"].string(), "mlp-b");
  EXPECT_THAT(answer["runs"][0]["tags"].strings(), ElementsAre("baseline", "small"));
  std::map<std::string, std::vector<std::string>> differences;
  for (const JsonValue& difference : answer["differences"].items()) {
    std::vector<std::string>& values = differences[difference["key"].string()];
    for (const JsonValue& value : difference["values"].items()) values.push_back(value.is_null() ? "(none)" : value.string());
  }
  EXPECT_EQ(differences["optimizers.adam.lr"], (std::vector<std::string>{"0.01", "0.003"}));
  EXPECT_EQ(differences["experiment.name"], (std::vector<std::string>{"mlp-a", "mlp-b"}));
  EXPECT_EQ(differences["experiment.tags"], (std::vector<std::string>{"[ 'baseline', 'small' ]", "(none)"}));
  EXPECT_EQ(differences.size(), 3u) << "only the keys that differ";
  std::vector<std::string> tags;
  for (const auto& row : sql_rows(db_, "SELECT DISTINCT tag FROM summaries WHERE run_id IN (2, 3) ORDER BY tag"))
    tags.push_back(row[0]);
  EXPECT_THAT(answer["tags"].strings(), ElementsAreArray(tags));

  EXPECT_EQ(json_of(serve_.get("/api/compare?runs=mlp-a"), 400)["error"].string(),
            "compare needs two or more runs (?runs=a,b), got 1");
  EXPECT_EQ(json_of(serve_.get("/api/compare?runs=mlp-a,2"), 400)["error"].string(),
            "'2' names run mlp-a twice; compare needs different runs");
  EXPECT_THAT(json_of(serve_.get("/api/compare?runs=mlp-a,nope"), 404)["error"].string(), StartsWith("no run named 'nope'"));
}

TEST_F(serve_api, query_answers_columns_and_rows_on_get_and_post) {
  const JsonValue get = json_of(serve_.get("/api/query?sql=" + encoded("SELECT name, id FROM runs ORDER BY id")));
  EXPECT_THAT(get["columns"].strings(), ElementsAre("name", "id"));
  ASSERT_EQ(get["rows"].size(), 3u);
  EXPECT_EQ(get["rows"][0][0].string(), "pix2pix");
  EXPECT_EQ(get["rows"][2][1].integer(), 3);
  EXPECT_FALSE(get["truncated"].boolean());
  EXPECT_GE(get["ms"].number(), 0.0);

  // Strings escaped, infinities and NULL as null, reals exactly.
  const std::string body = R"({"sql": "SELECT 'a\"b\\c' || char(10) || char(1) AS s, 1e999 AS inf, NULL AS n, 0.1 AS r"})";
  const JsonValue post = json_of(serve_.post("/api/query", body, "application/json"));
  EXPECT_THAT(post["columns"].strings(), ElementsAre("s", "inf", "n", "r"));
  EXPECT_EQ(post["rows"][0][0].string(), "a\"b\\c\n\x01");
  EXPECT_TRUE(post["rows"][0][1].is_null());
  EXPECT_TRUE(post["rows"][0][2].is_null());
  EXPECT_EQ(post["rows"][0][3].number(), 0.1);

  const std::string count = sql_value(db_, "SELECT count(*) FROM summaries");
  const JsonValue limited = json_of(serve_.get("/api/query?limit=2&sql=" + encoded("SELECT step FROM summaries")));
  EXPECT_EQ(limited["rows"].size(), 2u);
  EXPECT_TRUE(limited["truncated"].boolean()) << count << " rows";
  const JsonValue posted_limit =
      json_of(serve_.post("/api/query", "{\"sql\": \"SELECT step FROM summaries\", \"limit\": 3}", "application/json"));
  EXPECT_EQ(posted_limit["rows"].size(), 3u);

  EXPECT_EQ(json_of(serve_.get("/api/query?limit=0&sql=SELECT%201"), 400)["error"].string(),
            "limit must be 1 to 10000, got 0");
  EXPECT_EQ(json_of(serve_.get("/api/query?limit=10001&sql=SELECT%201"), 400)["error"].string(),
            "limit must be 1 to 10000, got 10001");
  EXPECT_EQ(json_of(serve_.get("/api/query"), 400)["error"].string(), "no statement: pass one as ?sql=");
  EXPECT_THAT(json_of(serve_.post("/api/query", "SELECT 1", "text/plain"), 400)["error"].string(),
              StartsWith("the body must be a JSON object"));
  EXPECT_THAT(json_of(serve_.get("/api/query?sql=" + encoded("SELEKT 1")), 400)["error"].string(), HasSubstr("syntax error"));
}

TEST_F(serve_api, every_page_is_index_html_and_static_files_are_the_assets) {
  const httplib::Result index = serve_.get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_THAT(index->get_header_value("Content-Type"), StartsWith("text/html"));
  EXPECT_THAT(index->body, HasSubstr("<"));
  for (const char* page : {"/run/1", "/run/pix2pix", "/compare", "/sql"}) {
    const httplib::Result other = serve_.get(page);
    ASSERT_TRUE(other) << page;
    EXPECT_EQ(other->status, 200) << page;
    EXPECT_EQ(other->body, index->body) << page;
  }
  for (const char* file : {"/static/kiln.js", "/static/kiln.css"}) {
    const httplib::Result asset = serve_.get(file);
    ASSERT_TRUE(asset) << file;
    EXPECT_EQ(asset->status, 200) << file;
    EXPECT_FALSE(asset->body.empty()) << file;
  }
  EXPECT_THAT(serve_.get("/static/kiln.js")->get_header_value("Content-Type"), StartsWith("text/javascript"));
  EXPECT_EQ(json_of(serve_.get("/static/nothing.js"), 404)["error"].string(),
            "no file 'nothing.js' among the dashboard's pages");
}

}  // namespace
}  // namespace kiln::test
