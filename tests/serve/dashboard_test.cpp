// kiln serve's pages end to end: real runs, a real `kiln serve`, its pages in headless Chromium
// on the wall clock (DevToolsBrowser), read back from the page's DOM.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "devtools_browser.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kPageTimeout = 60s;
// What every page sets once its first drawing is done (kiln.js, page()).
constexpr const char* kReady = "document.body.dataset.ready === '1'";
// runner/report/page.cpp's palette, which the pages share: run i is drawn in colour i.
constexpr const char* kFirstColour = "#4e79a7";
constexpr const char* kSecondColour = "#f28e2b";

/// The first opening tag of an `element` that holds `marker` among its attributes ("" if none).
std::string open_tag(const std::string& dom, const std::string& element, const std::string& marker) {
  for (auto start = dom.find("<" + element + " "); start != std::string::npos;
       start = dom.find("<" + element + " ", start + 1)) {
    // The serializer writes '>' inside attribute values as "&gt;": the first '>' ends the tag.
    const std::string tag = dom.substr(start, dom.find('>', start) + 1 - start);
    if (tag.find(marker) != std::string::npos) return tag;
  }
  return "";
}

/// The element from the opening tag holding `marker` to its closing tag (not nested in itself).
std::string element_of(const std::string& dom, const std::string& element, const std::string& marker) {
  const std::string opening = open_tag(dom, element, marker);
  if (opening.empty()) return "";
  const auto start = dom.find(opening);
  return dom.substr(start, dom.find("</" + element + ">", start) + element.size() + 3 - start);
}

std::string attribute(const std::string& tag, const std::string& name) {
  std::smatch match;
  if (!std::regex_search(tag, match, std::regex(" " + name + "=\"([^\"]*)\""))) return "";
  return match[1];
}

long long number_attribute(const std::string& tag, const std::string& name) {
  const std::string text = attribute(tag, name);
  if (text.empty()) throw std::runtime_error("no " + name + " in " + tag);
  return std::stoll(text);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

/// Runs one SQL statement that writes on the database, as another program might have.
void write_sql(const fs::path& db, const std::string& sql) {
  sqlite3* connection = nullptr;
  const int opened = sqlite3_open_v2(db.c_str(), &connection, SQLITE_OPEN_READWRITE, nullptr);
  char* error = nullptr;
  const int done = opened == SQLITE_OK ? sqlite3_exec(connection, sql.c_str(), nullptr, nullptr, &error) : opened;
  const std::string message = error ? error : sqlite3_errmsg(connection);
  sqlite3_free(error);
  sqlite3_close(connection);
  if (done != SQLITE_OK) throw std::runtime_error(sql + ": " + message);
}

/// `text` as an SQL string literal.
std::string sql_text(const std::string& text) { return "'" + std::regex_replace(text, std::regex("'"), "''") + "'"; }

/// Checks `holds` every 20 ms until it is true or `timeout` passed; returns the last answer.
bool eventually(const std::function<bool()>& holds, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!holds()) {
    if (std::chrono::steady_clock::now() >= deadline) return holds();
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

/// A JavaScript expression: the run list's rows as "id:status id:status ...", in page order.
constexpr const char* kListedRuns =
    "[...document.querySelectorAll('tr[data-run-id]')].map((r) => r.dataset.runId + ':' + r.dataset.status).join(' ')";

class serve_pages : public ::testing::Test {
 protected:
  /// experiments/mlp.toml for 100 steps (a summary every 10), with `extra` arguments.
  std::vector<std::string> mlp_args(const std::vector<std::string>& extra) const {
    std::vector<std::string> args = {"run", (source_dir() / "experiments/mlp.toml").string(), "--set",
                                     "experiment.max_steps=100", "--set", "supervisor.log_every_steps=0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  void train(const std::vector<std::string>& extra = {}) {
    const KilnResult result = run_kiln(mlp_args(extra), dir_.path());
    ASSERT_EQ(result.exit_code(), 0) << result.describe();
  }

  /// Starts `kiln serve` on a free port over this test's database, with `extra` arguments.
  void serve(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"serve", "--port", "0", "--db", db_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<KilnProcess>(args, dir_.path());
    const std::regex url(R"(http://127\.0\.0\.1:[0-9]+)");
    std::smatch match;
    ASSERT_TRUE(server_->wait_until([&](const KilnProcess& p) { return std::regex_search(p.out(), match, url); }, 30s))
        << "kiln serve printed no URL; stdout: " << server_->out() << "\nstderr: " << server_->err();
    std::regex_search(server_->out(), match, url);
    base_ = match[0];
  }

  DevToolsBrowser& browser() {
    if (!browser_) {
      const std::string binary = KILN_CHROMIUM;
      if (binary.empty() || !fs::exists(binary))
        throw std::runtime_error("headless Chromium is needed to test kiln serve's pages, and the build found none "
                                 "(\"" + binary + "\"): install Debian's chromium package, then re-run cmake");
      browser_ = std::make_unique<DevToolsBrowser>(binary, dir_.path());
    }
    return *browser_;
  }

  /// Opens `path` on the server and returns the DOM once `condition` holds.
  std::string page(const std::string& path, const std::string& condition = kReady) {
    browser().open(base_ + path);
    return browser().dom_when(condition, kPageTimeout);
  }

  std::string evaluate(const std::string& expression) { return browser().evaluate(expression, kPageTimeout); }

  long long db_number(const std::string& sql) const { return std::stoll(sql_value(db_, sql)); }

  // Destroyed in reverse: the browser, then the server, then the folder.
  TempDir dir_;
  fs::path db_ = dir_ / "runs/kiln.db";
  std::unique_ptr<KilnProcess> server_;
  std::unique_ptr<DevToolsBrowser> browser_;
  std::string base_;
};

TEST_F(serve_pages, a_running_run_s_curves_grow_without_a_reload_and_stop_when_it_stops) {
  // A run far longer than the test, one thread, stopped by the test with SIGINT.
  KilnProcess run(mlp_args({"--set", "experiment.max_steps=100000000", "--set", "experiment.threads=1", "--set",
                            "data.workers=0", "--set", "supervisor.summary_every_steps=20"}),
                  dir_.path());
  const std::string last_step_sql = "SELECT MAX(step) FROM summaries WHERE run_id = 1 AND tag = 'loss/mse'";
  const auto has_summaries = [&] {
    try {
      return fs::exists(db_) && sql_value(db_, last_step_sql) != "NULL";
    } catch (const std::exception&) {
      return false;  // no table yet, or locked while kiln creates the schema
    }
  };
  ASSERT_TRUE(eventually(has_summaries, 60s))
      << "the run wrote no loss/mse: " << run.err();
  ASSERT_NO_FATAL_FAILURE(serve());
  const long long held_before_load = db_number(last_step_sql);

  // Three polls answered: about three seconds of real time in which the run kept writing.
  const std::string live = page("/run/1", std::string(kReady) + " && Number(document.body.dataset.polls) >= 3");
  const std::string chart = open_tag(live, "svg", "data-tag=\"loss/mse\"");
  ASSERT_FALSE(chart.empty()) << live;
  const long long loaded_step = number_attribute(chart, "data-loaded-step");
  EXPECT_GE(loaded_step, held_before_load);
  EXPECT_GT(number_attribute(chart, "data-last-step"), loaded_step) << chart;
  EXPECT_GT(number_attribute(chart, "data-points"), number_attribute(chart, "data-loaded-points")) << chart;
  EXPECT_EQ(attribute(open_tag(live, "body", "data-page="), "data-live"), "1");
  EXPECT_THAT(open_tag(live, "span", "class=\"status running\""), HasSubstr("data-status=\"running\""));

  run.send_signal(SIGINT);
  const KilnResult stopped = run.finish();
  ASSERT_EQ(stopped.exit_code(), 0) << stopped.describe();
  // The page sees "stopped", takes what the last poll brought, and polls no more.
  const std::string after = browser().dom_when("document.body.dataset.live === '0'", kPageTimeout);
  EXPECT_THAT(element_of(after, "section", "class=\"run-head\""), HasSubstr("data-status=\"stopped\""));
  const std::string final_chart = open_tag(after, "svg", "data-tag=\"loss/mse\"");
  EXPECT_EQ(number_attribute(final_chart, "data-last-step"), db_number(last_step_sql));
  EXPECT_EQ(number_attribute(final_chart, "data-points"),
            db_number("SELECT COUNT(*) FROM summaries WHERE run_id = 1 AND tag = 'loss/mse'"));
}

TEST_F(serve_pages, compare_overlays_two_runs_each_in_its_colour_with_their_config_differences) {
  ASSERT_NO_FATAL_FAILURE(train());
  ASSERT_NO_FATAL_FAILURE(train({"--fresh", "--set", "optimizers.adam.lr=3e-3"}));
  ASSERT_NO_FATAL_FAILURE(serve());

  const std::string dom = page("/compare?runs=1,2");
  const std::string chart = element_of(dom, "svg", "data-tag=\"loss/mse\"");
  ASSERT_FALSE(chart.empty()) << dom;
  EXPECT_EQ(attribute(open_tag(chart, "svg", "data-tag="), "data-series"), "2");
  const std::string figure = element_of(dom, "figure", "class=\"chart-box\" data-tag=\"loss/mse\"");
  EXPECT_THAT(figure, HasSubstr("class=\"legend-item\" data-run=\"mlp\""));
  EXPECT_THAT(figure, HasSubstr("class=\"legend-item\" data-run=\"mlp-2\""));
  EXPECT_EQ(count(chart, std::string("class=\"smooth\" data-run=\"mlp\" stroke=\"") + kFirstColour + "\""), 1u);
  EXPECT_EQ(count(chart, std::string("class=\"smooth\" data-run=\"mlp-2\" stroke=\"") + kSecondColour + "\""), 1u);
  // Every chart of the comparison holds both runs' points of its tag.
  EXPECT_EQ(number_attribute(open_tag(chart, "svg", "data-tag="), "data-points"),
            db_number("SELECT COUNT(*) FROM summaries WHERE tag = 'loss/mse'"));
  EXPECT_EQ(count(dom, "data-series=\"2\""), count(dom, "<svg class=\"chart\""));

  // The controls: the log scale, smoothing off (no faint raw line left), the hover readout.
  const std::string loss = "document.querySelector('svg[data-tag=\"loss/mse\"]')";
  evaluate("(() => { const log = document.getElementById('log-scale'); log.checked = true;"
           " log.dispatchEvent(new Event('change')); return ''; })()");
  EXPECT_EQ(evaluate(loss + ".dataset.log"), "1");
  EXPECT_THAT(evaluate(loss + ".querySelector('.axis-label:last-of-type').textContent"), HasSubstr("(log)"));
  EXPECT_EQ(evaluate("String(" + loss + ".querySelectorAll('path.raw').length)"), "2");
  evaluate("(() => { const s = document.getElementById('smoothing'); s.value = '0';"
           " s.dispatchEvent(new Event('input')); return ''; })()");
  EXPECT_EQ(evaluate("String(" + loss + ".querySelectorAll('path.raw').length)"), "0");
  EXPECT_EQ(evaluate("String(" + loss + ".querySelectorAll('path.smooth').length)"), "2");
  const std::string readout = evaluate(
      "(() => { const svg = " + loss + "; const box = svg.getBoundingClientRect();"
      " svg.dispatchEvent(new MouseEvent('mousemove',"
      " {clientX: box.right - box.width * 0.035, clientY: box.top + 50}));"
      " return svg.parentNode.querySelector('.readout').textContent; })()");
  EXPECT_THAT(readout, HasSubstr("step 99"));
  EXPECT_THAT(readout, HasSubstr("mlp "));
  EXPECT_THAT(readout, HasSubstr("mlp-2 "));

  const std::string lr = element_of(dom, "tr", "data-key=\"optimizers.adam.lr\"");
  EXPECT_THAT(lr, HasSubstr(">" + sql_value(db_, "SELECT value FROM params WHERE run_id = 1 AND key = "
                                                  "'optimizers.adam.lr'") + "<"));
  EXPECT_THAT(lr, HasSubstr(">" + sql_value(db_, "SELECT value FROM params WHERE run_id = 2 AND key = "
                                                  "'optimizers.adam.lr'") + "<"));
  EXPECT_EQ(count(element_of(dom, "table", "class=\"differences\""), "<tr data-key="), 1u) << "only lr differs";
}

TEST_F(serve_pages, the_run_list_shows_each_run_s_status_filters_and_sorts) {
  ASSERT_NO_FATAL_FAILURE(train({"--set", "experiment.tags=['baseline']"}));
  ASSERT_NO_FATAL_FAILURE(train({"--fresh"}));
  ASSERT_NO_FATAL_FAILURE(train({"--fresh"}));
  // A failed run, as the database would hold one.
  write_sql(db_, "UPDATE runs SET status = 'failed', error = 'boom' WHERE name = 'mlp-3'");
  ASSERT_NO_FATAL_FAILURE(serve());

  page("/");
  EXPECT_EQ(evaluate(kListedRuns), "3:failed 2:completed 1:completed");
  EXPECT_EQ(evaluate("document.querySelector('tr[data-run-id=\"3\"] .status').textContent"), "failed");
  EXPECT_EQ(evaluate("document.querySelector('tr[data-run-id=\"1\"] .progress-text').textContent"), "100 / 100");
  EXPECT_EQ(evaluate("document.querySelector('tr[data-run-id=\"1\"] .tag').textContent"), "baseline");

  // The filters, from the URL and from the controls.
  page("/?status=completed");
  EXPECT_EQ(evaluate(kListedRuns), "2:completed 1:completed");
  page("/?name=mlp-*");
  EXPECT_EQ(evaluate(kListedRuns), "3:failed 2:completed");
  page("/?tag=baseline");
  EXPECT_EQ(evaluate(kListedRuns), "1:completed");
  page("/");
  evaluate("(() => { const s = document.getElementById('filter-status'); s.value = 'failed';"
           " s.dispatchEvent(new Event('change')); return ''; })()");
  browser().dom_when("document.querySelectorAll('tr[data-run-id]').length === 1", kPageTimeout);
  EXPECT_EQ(evaluate(kListedRuns), "3:failed");
  EXPECT_EQ(evaluate("location.search"), "?status=failed");

  // Sorting: by id (newest first) until a header is clicked; a second click turns it round.
  page("/");
  evaluate("(() => { document.querySelector('th[data-sort=\"name\"]').click(); return ''; })()");
  EXPECT_EQ(evaluate(kListedRuns), "1:completed 2:completed 3:failed");
  evaluate("(() => { document.querySelector('th[data-sort=\"name\"]').click(); return ''; })()");
  EXPECT_EQ(evaluate(kListedRuns), "3:failed 2:completed 1:completed");
  evaluate("(() => { document.querySelector('th[data-sort=\"status\"]').click(); return ''; })()");
  EXPECT_EQ(evaluate(kListedRuns), "3:failed 2:completed 1:completed");
  EXPECT_EQ(evaluate("document.querySelector('th[aria-sort]').dataset.sort"), "status");
}

TEST_F(serve_pages, the_sql_box_shows_a_table_a_chart_and_the_server_s_refusal) {
  ASSERT_NO_FATAL_FAILURE(train());
  ASSERT_NO_FATAL_FAILURE(serve());

  page("/sql?q=SELECT%20name%2C%20status%20FROM%20runs");
  EXPECT_EQ(evaluate("[...document.querySelectorAll('#result-table th')].map((c) => c.textContent).join('|')"),
            "name|status");
  EXPECT_EQ(evaluate("[...document.querySelectorAll('#result-table tbody td')].map((c) => c.textContent).join('|')"),
            "mlp|completed");
  EXPECT_EQ(evaluate("String(document.querySelectorAll('#sql-result svg').length)"), "0") << "no numeric column";

  // A numeric column: a chart of it against the first column, besides the table.
  const std::string dom =
      page("/sql?q=SELECT%20step%2C%20value%20FROM%20summaries%20WHERE%20tag%20%3D%20'loss%2Fmse'%20ORDER%20BY%20step");
  const std::string chart = open_tag(dom, "svg", "data-tag=\"value\"");
  ASSERT_FALSE(chart.empty()) << dom;
  EXPECT_EQ(number_attribute(chart, "data-points"), db_number("SELECT COUNT(*) FROM summaries WHERE tag = 'loss/mse'"));
  EXPECT_EQ(number_attribute(chart, "data-last-step"),
            db_number("SELECT MAX(step) FROM summaries WHERE tag = 'loss/mse'"));

  // A NULL (as the API writes a NaN) is a gap: the line is drawn in two pieces around it.
  page("/sql?q=" + std::string("SELECT%20step%2C%20CASE%20WHEN%20step%20%3D%2050%20THEN%20NULL%20ELSE%20value%20END%20AS%20v"
                               "%20FROM%20summaries%20WHERE%20tag%20%3D%20'loss%2Fmse'%20ORDER%20BY%20step"));
  const std::string line = evaluate("document.querySelector('svg[data-tag=\"v\"] path.smooth').getAttribute('d')");
  EXPECT_EQ(count(line, "M"), 2u) << line;
  EXPECT_EQ(count(line, "L") + 2, static_cast<std::size_t>(db_number("SELECT COUNT(*) FROM summaries WHERE tag = "
                                                                     "'loss/mse' AND step != 50")))
      << line;

  // A statement that writes: the page shows the server's own one-line refusal, and nothing changed.
  page("/sql?q=DELETE%20FROM%20runs");
  const std::string refusal = evaluate(
      "fetch('/api/query?sql=' + encodeURIComponent('DELETE FROM runs')).then((r) => r.json()).then((j) => j.error)");
  EXPECT_THAT(refusal, HasSubstr("read-only"));
  EXPECT_EQ(evaluate("document.querySelector('#sql-result .error').textContent"), refusal);
  EXPECT_EQ(evaluate("String(document.querySelectorAll('#result-table').length)"), "0");
  EXPECT_EQ(sql_value(db_, "SELECT COUNT(*) FROM runs"), "1");
}

TEST_F(serve_pages, markup_in_names_configs_and_tags_is_shown_as_text) {
  const std::string tag = "<b onmouseover=\"document.body.dataset.xss=1\">t</b>";
  ASSERT_NO_FATAL_FAILURE(train({"--set", "experiment.tags=['" + tag + "']"}));
  ASSERT_NO_FATAL_FAILURE(train({"--fresh"}));
  // kiln refuses such a name itself; another program writing the database may not.
  const std::string name = "<img src=x onerror=\"document.body.dataset.xss='name'\">";
  const std::string config_line = "# <script>document.body.dataset.xss='config'</script>";
  write_sql(db_, "UPDATE runs SET name = " + sql_text(name) + ", config = config || " + sql_text("\n" + config_line) +
                     " WHERE id = 1");
  ASSERT_NO_FATAL_FAILURE(serve());

  // No element came from the data, nothing ran, and each string is there as the text it is.
  const std::string injected = "String(document.querySelectorAll('img[src=\"x\"], b, script:not([src])').length)";
  const std::string ran = "document.body.dataset.xss || 'nothing ran'";
  page("/");
  EXPECT_EQ(evaluate("document.querySelector('tr[data-run-id=\"1\"] a.run').textContent"), name);
  EXPECT_EQ(evaluate("document.querySelector('tr[data-run-id=\"1\"] .tag').textContent"), tag);
  EXPECT_EQ(evaluate(injected), "0");
  EXPECT_EQ(evaluate(ran), "nothing ran");

  page("/run/1");
  EXPECT_EQ(evaluate("document.querySelector('.run-name').textContent"), name);
  EXPECT_EQ(evaluate("document.title"), name + " · kiln");
  EXPECT_THAT(evaluate("document.querySelector('pre.config').textContent"), HasSubstr(config_line));
  EXPECT_EQ(evaluate("document.querySelector('svg[data-tag=\"loss/mse\"] path.smooth').getAttribute('data-run')"),
            name);
  EXPECT_EQ(evaluate(injected), "0");
  EXPECT_EQ(evaluate(ran), "nothing ran");

  page("/compare?runs=1,2");
  EXPECT_EQ(evaluate("document.querySelector('.legend-item').textContent"), name);
  EXPECT_EQ(evaluate(injected), "0");
  EXPECT_EQ(evaluate(ran), "nothing ran");
}

TEST_F(serve_pages, a_run_page_shows_the_latest_image_grid_and_its_slider_goes_back_to_the_first) {
  // experiments/pix2pix.toml at 32x32 for 3 steps, an image grid at every step.
  std::vector<std::string> args = {"run", (source_dir() / "experiments/pix2pix.toml").string()};
  for (const char* set : {"experiment.max_steps=3", "data.image_size=32", "data.load_size=36", "data.size=4",
                          "eval_data.image_size=32", "eval_data.size=2", "model.image_size=32", "model.ngf=8",
                          "model.ndf=8", "hooks.evaluate.every_steps=3", "hooks.evaluate.count=2",
                          "hooks.image_summaries.every_steps=1", "hooks.image_summaries.count=2",
                          "supervisor.log_every_steps=0"})
    args.insert(args.end(), {"--set", set});
  const KilnResult trained = run_kiln(args, dir_.path());
  ASSERT_EQ(trained.exit_code(), 0) << trained.describe();
  ASSERT_NO_FATAL_FAILURE(serve());

  const std::string img = "document.querySelector('figure.image-tag img')";
  const std::string dom = page("/run/1", std::string(kReady) + " && " + img + " && " + img + ".complete");
  const std::string figure = open_tag(dom, "figure", "class=\"image-tag\"");
  ASSERT_FALSE(figure.empty()) << dom;
  const std::string tag = attribute(figure, "data-tag");
  const std::string of_tag = " FROM images WHERE run_id = 1 AND tag = " + sql_text(tag);
  EXPECT_EQ(number_attribute(figure, "data-step"), db_number("SELECT MAX(step)" + of_tag));
  EXPECT_EQ(evaluate("String(" + img + ".naturalWidth > 0)"), "true") << "the grid came through /files/";
  const std::string newest = sql_value(db_, "SELECT path" + of_tag + " ORDER BY step DESC LIMIT 1");
  EXPECT_THAT(evaluate(img + ".getAttribute('data-url')"),
              AllOf(StartsWith("/files/1/"), EndsWith("/" + fs::path(newest).filename().string())));

  evaluate("(() => { const s = document.querySelector('figure.image-tag input[type=range]'); s.value = '0';"
           " s.dispatchEvent(new Event('input')); return ''; })()");
  EXPECT_EQ(evaluate("document.querySelector('figure.image-tag').dataset.step"),
            sql_value(db_, "SELECT MIN(step)" + of_tag));
  EXPECT_THAT(evaluate("document.querySelector('figure.image-tag figcaption').textContent"),
              HasSubstr("(1 of " + sql_value(db_, "SELECT COUNT(*)" + of_tag) + ")"));
}

TEST_F(serve_pages, a_page_opened_with_the_token_passes_it_on_and_later_pages_use_the_cookie) {
  ASSERT_NO_FATAL_FAILURE(train());
  ASSERT_NO_FATAL_FAILURE(serve({"--token", "s3cret"}));

  page("/?token=s3cret");
  EXPECT_EQ(evaluate(kListedRuns), "1:completed");
  EXPECT_EQ(evaluate("document.querySelector('a.run').getAttribute('href')"), "/run/1?token=s3cret");
  // The server set its cookie on that page: a URL without the token works in this browser.
  const std::string dom = page("/run/1");
  EXPECT_THAT(open_tag(dom, "svg", "data-tag=\"loss/mse\""), HasSubstr("data-points=\"11\""));
  EXPECT_EQ(evaluate("fetch('/api/runs').then((r) => String(r.status))"), "200");
  EXPECT_EQ(evaluate("fetch('/api/runs', {credentials: 'omit'}).then((r) => String(r.status))"), "401");
}

}  // namespace
}  // namespace kiln::test
