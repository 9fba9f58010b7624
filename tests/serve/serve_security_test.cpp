// kiln serve's refusals: paths out of a run's directory, SQL that writes or runs too long, the
// token, and how the process starts and stops.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"
#include "serve_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

constexpr const char* kSecret = "not for the browser: the file outside the run";

/// One mlp run (runs/t), with files in and around its directory: an image, a symlink to it, a
/// symlink out of the directory, a file beside the directory, a text file inside.
class serve_security : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(dir_, "exp.toml", mlp_experiment());
    const KilnResult run = run_kiln({"run", "exp.toml"}, dir_.path());
    ASSERT_EQ(run.exit_code(), 0) << run.describe();
    fs::create_directories(dir_ / "runs/t/images");
    image_ = dir_.write("runs/t/images/a.png", std::string("\x89PNG\r\n\x1a\n", 8) + "pixels");
    dir_.write("secret.png", kSecret);
    fs::create_directory_symlink("../../..", dir_ / "runs/t/images/up");
    fs::create_symlink("../../../secret.png", dir_ / "runs/t/images/out.png");
    fs::create_symlink("/etc/passwd", dir_ / "runs/t/passwd.png");
    fs::create_symlink("a.png", dir_ / "runs/t/images/in.png");
  }

  TempDir dir_;
  fs::path db_ = dir_ / "runs/kiln.db";
  fs::path image_;
};

TEST_F(serve_security, paths_that_lead_out_of_the_run_directory_are_refused) {
  ServeProcess serve(dir_.path());
  for (const char* path : {"/files/1/../../etc/passwd", "/files/1/%2e%2e/%2e%2e/etc/passwd",
                           "/files/1/images/%2E%2E%2F%2E%2E%2F..%2Fsecret.png", "/files/1/images/../../../secret.png",
                           "/files/1/%2fetc%2fpasswd", "/files/1/images/out.png", "/files/1/passwd.png",
                           "/files/1/images/up/secret.png"}) {
    const httplib::Result answer = serve.get(path);
    ASSERT_TRUE(answer) << path;
    EXPECT_EQ(answer->status, 403) << path << ": " << answer->body;
    EXPECT_THAT(answer->body, Not(HasSubstr("root:"))) << path;
    EXPECT_THAT(answer->body, Not(HasSubstr(kSecret))) << path;
    EXPECT_THAT(JsonValue::parse(answer->body)["error"].string(), HasSubstr("run's directory")) << path;
  }
  // Inside, a symlink that stays inside is fine; a file that is not an image is not served.
  for (const char* path : {"/files/1/images/a.png", "/files/t/images/in.png", "/files/1/images/%61.png"}) {
    const httplib::Result answer = serve.get(path);
    ASSERT_TRUE(answer) << path;
    EXPECT_EQ(answer->status, 200) << path << ": " << answer->body;
    EXPECT_EQ(answer->body, read_file(image_)) << path;
    EXPECT_EQ(answer->get_header_value("Content-Type"), "image/png");
  }
  EXPECT_EQ(json_of(serve.get("/files/1/experiment.toml"), 403)["error"].string(),
            "'experiment.toml' is not an image: only PNG and JPEG files are served");
  EXPECT_EQ(json_of(serve.get("/files/1/images/missing.png"), 404)["error"].string(),
            "no file 'images/missing.png' in the run's directory");
  EXPECT_THAT(json_of(serve.get("/files/9/images/a.png"), 404)["error"].string(), StartsWith("no run named '9'"));
}

TEST_F(serve_security, sql_that_writes_is_refused_as_kiln_query_refuses_it_and_nothing_changes) {
  ServeProcess serve(dir_.path());
  const std::string before = read_file(db_);
  const auto state = [&] {
    return sql_value(db_, "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM events) || ' ' || "
                          "(SELECT user_version FROM pragma_user_version)");
  };
  const std::string state_before = state();
  for (const std::string sql : {"DELETE FROM runs", "PRAGMA user_version=1", "SELECT 1; SELECT 2", "DROP TABLE runs",
                                "INSERT INTO events (run_id, time, kind) VALUES (1, 0, 'x')", "PRAGMA optimize",
                                "VACUUM", "ATTACH DATABASE 'x.db' AS x"}) {
    const std::string body = "{\"sql\": \"" + sql + "\"}";
    const JsonValue refused = json_of(serve.post("/api/query", body, "application/json"), 400);
    // The one line kiln query prints for it, word for word.
    const KilnResult query = run_kiln({"query", sql}, dir_.path());
    EXPECT_EQ("error: " + refused["error"].string(), error_line(query)) << sql;
  }
  EXPECT_EQ(state(), state_before);
  EXPECT_TRUE(read_file(db_) == before) << "the database file changed";
  EXPECT_FALSE(fs::exists(dir_ / "x.db"));
}

TEST_F(serve_security, a_query_still_running_after_5_s_is_stopped) {
  ServeProcess serve(dir_.path());
  const auto start = std::chrono::steady_clock::now();
  const JsonValue stopped = json_of(
      serve.get("/api/query?sql=WITH%20RECURSIVE%20c(x)%20AS%20(SELECT%201%20UNION%20ALL%20SELECT%20x%2B1%20FROM%20c)"
                "%20SELECT%20count(*)%20FROM%20c"),
      400);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_THAT(stopped["error"].string(), HasSubstr("query stopped after 5 s, its timeout"));
  EXPECT_GE(seconds, 4.9);
  EXPECT_LT(seconds, 15.0);
  // The server goes on answering.
  EXPECT_EQ(json_of(serve.get("/api/runs"))["runs"].size(), 1u);
}

TEST_F(serve_security, without_a_token_only_requests_to_this_machine_are_answered) {
  ServeProcess serve(dir_.path());
  for (const char* host : {"localhost:1234", "127.0.0.1", "[::1]:80"})
    EXPECT_EQ(json_of(serve.get("/api/runs", {{"Host", host}}))["runs"].size(), 1u) << host;
  // A page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) gets nothing.
  for (const char* path : {"/api/runs", "/", "/files/1/images/a.png"})
    EXPECT_EQ(json_of(serve.get(path, {{"Host", "rebind.example:6006"}}), 403)["error"].string(),
              "Host 'rebind.example' is not this machine: without --token kiln serve answers only requests to "
              "localhost, 127.0.0.1 or [::1]")
        << path;
}

TEST_F(serve_security, with_a_token_every_request_needs_it) {
  ServeProcess serve(dir_.path(), {"--token", "s3cret-token"});
  EXPECT_THAT(serve.line(), HasSubstr("http://127.0.0.1:" + std::to_string(serve.port()) + "/?token=s3cret-token "));
  const std::vector<std::string> paths = {"/api/runs", "/api/runs/1/scalars?after=3", "/", "/run/1",
                                          "/static/kiln.js", "/files/1/images/a.png", "/api/query?sql=SELECT%201"};
  for (const std::string& path : paths) {
    const std::string join = path.find('?') == std::string::npos ? "?" : "&";
    EXPECT_THAT(json_of(serve.get(path), 401)["error"].string(), HasSubstr("needs its token")) << path;
    json_of(serve.get(path, {{"Authorization", "Bearer wrong-token!"}}), 401);
    json_of(serve.get(path + join + "token=s3cret-tokeN"), 401);
    json_of(serve.get(path, {{"Cookie", "kiln_token=s3cret"}}), 401);

    for (const httplib::Result& answer :
         {serve.get(path, {{"Authorization", "Bearer s3cret-token"}}), serve.get(path + join + "token=s3cret-token"),
          serve.get(path, {{"Cookie", "theme=dark; kiln_token=s3cret-token"}})}) {
      ASSERT_TRUE(answer) << path;
      EXPECT_EQ(answer->status, 200) << path << ": " << answer->body;
    }
    // Opening a URL with the token leaves it in a cookie for the page's own requests.
    EXPECT_THAT(serve.get(path + join + "token=s3cret-token")->get_header_value("Set-Cookie"),
                StartsWith("kiln_token=s3cret-token; Path=/; HttpOnly"))
        << path;
  }
  const httplib::Result post = serve.post("/api/query", "{\"sql\": \"SELECT 1\"}", "application/json");
  EXPECT_EQ(json_of(post, 401)["error"].string().empty(), false);
}

TEST_F(serve_security, every_address_without_a_token_gets_a_generated_one) {
  ServeProcess serve(dir_.path(), {"--host", "0.0.0.0"});
  std::smatch match;
  const std::string line = serve.line();
  ASSERT_TRUE(std::regex_search(line, match, std::regex(R"(^kiln serve: http://0\.0\.0\.0:[0-9]+/\?token=([0-9a-f]{32}) )")))
      << line;
  const std::string token = match[1];
  json_of(serve.get("/api/runs"), 401);
  EXPECT_EQ(json_of(serve.get("/api/runs", {{"Authorization", "Bearer " + token}}))["runs"].size(), 1u);
  // Another start makes another token.
  ServeProcess again(dir_.path(), {"--host", "0.0.0.0"});
  EXPECT_THAT(again.line(), Not(HasSubstr(token)));
}

TEST_F(serve_security, sigterm_and_sigint_stop_it_cleanly) {
  for (const int signal : {SIGTERM, SIGINT}) {
    ServeProcess serve(dir_.path());
    json_of(serve.get("/api/runs"));
    serve.process().send_signal(signal);
    const KilnResult result = serve.process().finish(20s);
    ASSERT_TRUE(result.exited()) << result.describe();
    EXPECT_EQ(result.exit_code(), 0) << result.describe();
    EXPECT_THAT(result.out, MatchesRegex("kiln serve: http://127\\.0\\.0\\.1:[0-9]+/ \\(database runs/kiln\\.db, "
                                         "read-only; Ctrl-C stops it\\)\n"));
    EXPECT_EQ(result.err, "");
  }
}

TEST_F(serve_security, a_missing_database_or_a_taken_port_is_one_error_line) {
  const KilnResult missing = run_kiln({"serve", "--db", "nope.db", "--port", "0"}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(missing, 2));
  EXPECT_EQ(error_line(missing), "error: no run database at nope.db (run an experiment first, or pass --db)");
  EXPECT_FALSE(fs::exists(dir_ / "nope.db"));

  ServeProcess first(dir_.path());
  const KilnResult taken = run_kiln({"serve", "--port", std::to_string(first.port())}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(taken, 2));
  EXPECT_THAT(error_line(taken), StartsWith("error: kiln serve cannot listen on 127.0.0.1:" + std::to_string(first.port())));
}

}  // namespace
}  // namespace kiln::test
