// kiln serve's HTTP server on cpp-httplib: routes, the token, the pages, until SIGINT or SIGTERM.
#include "serve/server.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sqlite3.h>

#include "kiln/error.hpp"
#include "serve/access.hpp"
#include "serve/api.hpp"
#include "serve/api_support.hpp"
#include "serve/json_writer.hpp"
#include "serve/pages.hpp"
#include "serve/run_files.hpp"
#include "store/database.hpp"
#include "store/json_text.hpp"

namespace kiln::runner::serve {
namespace {

namespace fs = std::filesystem;
using httplib::Request;
using httplib::Response;

constexpr const char* kJson = "application/json";
constexpr const char* kTokenCookie = "kiln_token";
/// Worker threads: a browser's open connection holds one while it is kept alive, so there
/// are enough for many pages polling at once (50 concurrent clients are tested).
constexpr std::size_t kWorkers = 64;
/// How often a request retries a read that found the database busy (a writer's checkpoint,
/// a WAL being recovered) after the connection's own busy timeout has run out.
constexpr int kBusyRetries = 3;

void answer_error(Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(error_json(message), kJson);
}

/// Runs `endpoint` and answers with its JSON, or with the error it throws as {"error": ...}.
void answer(Response& res, const std::function<std::string()>& endpoint) {
  try {
    res.set_content(endpoint(), kJson);
    res.set_header("Cache-Control", "no-store");
  } catch (const ApiError& e) {
    answer_error(res, e.status(), e.what());
  } catch (const std::exception& e) {
    answer_error(res, 500, e.what());
  }
}

/// `read()`, again when SQLite still finds the database busy after its busy timeout (a
/// writer's checkpoint, a WAL being recovered), so that a client never sees "database is
/// locked" because a run writes.
std::string retry_when_busy(const std::function<std::string()>& read) {
  for (int attempt = 0;; ++attempt) {
    try {
      return read();
    } catch (const store::StoreError& e) {
      const bool busy = e.code() == SQLITE_BUSY || e.code() == SQLITE_LOCKED;
      if (!busy || attempt == kBusyRetries) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
    }
  }
}

/// `read` on a fresh read-only connection to `db`, opened as `kiln query` opens one, in one
/// read transaction: everything one answer holds comes from one snapshot, so the tags of a
/// /scalars answer all end at the same commit of the run's writer (a page that polls from the
/// largest step it holds would otherwise never get the rows a commit between two tags' reads
/// added to the first tag).
std::string read_database(const fs::path& db, const std::function<std::string(store::Database&)>& read) {
  return retry_when_busy([&] {
    store::Database connection = store::open_existing(db);
    connection.exec("BEGIN");
    std::string answer = read(connection);
    connection.exec("COMMIT");
    return answer;
  });
}

std::string param(const Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : std::string();
}

/// The SQL and row limit of a query: ?sql=&limit= on a GET, a JSON body {"sql", "limit"} on a POST.
std::pair<std::string, std::int64_t> query_request(const Request& req) {
  if (req.method == "GET") {
    if (!req.has_param("sql")) throw ApiError(400, "no statement: pass one as ?sql=");
    const std::string limit = param(req, "limit");
    return {param(req, "sql"), limit.empty() ? kMaxQueryRows : parse_integer(limit, "limit")};
  }
  const auto body = store::parse_json_flat_object(req.body);
  if (!body) throw ApiError(400, "the body must be a JSON object: {\"sql\": \"SELECT ...\", \"limit\": 100}");
  const auto sql = body->find("sql");
  if (sql == body->end() || sql->second.kind != store::JsonScalar::Kind::string)
    throw ApiError(400, "the body's \"sql\" must be a string holding one statement");
  std::int64_t limit = kMaxQueryRows;
  if (const auto given = body->find("limit"); given != body->end() && given->second.kind != store::JsonScalar::Kind::null) {
    if (given->second.kind != store::JsonScalar::Kind::number) throw ApiError(400, "the body's \"limit\" must be a number");
    limit = parse_integer(given->second.text, "limit");
  }
  return {sql->second.text, limit};
}

/// The page or static file `name`, or a 404.
void answer_page(Response& res, const std::string& name) {
  const std::optional<Page> page = find_page(name);
  if (!page) return answer_error(res, 404, fmt::format("no file '{}' among the dashboard's pages", name));
  res.set_content(std::string(page->body), std::string(page->mime));
}

class Dashboard {
 public:
  explicit Dashboard(ServeOptions options) : options_(std::move(options)) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
    server_.set_keep_alive_timeout(2);
    server_.set_payload_max_length(1 << 20);
    server_.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                                 {"X-Frame-Options", "DENY"},
                                 {"Referrer-Policy", "no-referrer"}});  // a URL may carry the token
    // httplib's default adds SO_REUSEPORT, with which a second server binds the same port and
    // takes some of its connections: a port in use must be an error instead.
    server_.set_socket_options([](socket_t sock) {
      const int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server_.set_pre_routing_handler([this](const Request& req, Response& res) { return admit(req, res); });
    server_.set_error_handler([](const Request& req, Response& res) {
      if (!res.body.empty()) return;
      answer_error(res, res.status,
                   res.status == 404 ? fmt::format("no such page: {} {}", req.method, req.path)
                                     : fmt::format("{} {}: refused (HTTP {})", req.method, req.path, res.status));
    });
    server_.set_exception_handler([](const Request&, Response& res, std::exception_ptr error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        answer_error(res, 500, e.what());
      } catch (...) {
        answer_error(res, 500, "unknown error");
      }
    });
    add_api();
    add_files_and_pages();
  }

  httplib::Server& server() { return server_; }

 private:
  /// Lets a request through when it carries the token, or there is none and it names this
  /// machine; else a 401 (no or a wrong token) or a 403 (another host name).
  httplib::Server::HandlerResponse admit(const Request& req, Response& res) const {
    if (options_.token.empty()) {
      // Without a token the server listens on loopback only, but a web page elsewhere could
      // still reach it through a name of its own that resolves to 127.0.0.1 (DNS rebinding):
      // the browser then sends that name as the Host.
      const std::string host = host_name(req.get_header_value("Host"));
      if (host.empty() || is_loopback(host)) return httplib::Server::HandlerResponse::Unhandled;
      answer_error(res, 403,
                   fmt::format("Host '{}' is not this machine: without --token kiln serve answers only requests to "
                               "localhost, 127.0.0.1 or [::1]",
                               host));
      return httplib::Server::HandlerResponse::Handled;
    }
    const auto matches = [&](const std::optional<std::string>& given) {
      return given && same_token(*given, options_.token);
    };
    if (req.has_param("token") && matches(req.get_param_value("token"))) {
      // The pages' own requests carry no token: the cookie does, from this first URL on.
      res.set_header("Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict", kTokenCookie, options_.token));
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (matches(bearer_token(req.get_header_value("Authorization"))) ||
        matches(cookie_value(req.get_header_value("Cookie"), kTokenCookie)))
      return httplib::Server::HandlerResponse::Unhandled;
    answer_error(res, 401,
                 "this kiln serve needs its token: an Authorization: Bearer header, ?token= on the URL, or the "
                 "kiln_token cookie");
    return httplib::Server::HandlerResponse::Handled;
  }

  /// A GET endpoint that reads the database.
  void get(const std::string& pattern, std::function<std::string(store::Database&, const Request&)> endpoint) {
    server_.Get(pattern, [this, endpoint](const Request& req, Response& res) {
      answer(res, [&] { return read_database(options_.database, [&](store::Database& db) { return endpoint(db, req); }); });
    });
  }

  void add_api() {
    get("/api/runs", [](store::Database& db, const Request& req) {
      return runs_json(db, {param(req, "status"), param(req, "name"), param(req, "tag")});
    });
    get(R"(/api/runs/([^/]+))", [](store::Database& db, const Request& req) { return run_json(db, req.matches[1]); });
    get(R"(/api/runs/([^/]+)/scalars)", [](store::Database& db, const Request& req) {
      ScalarsQuery query;
      if (const std::string after = param(req, "after"); !after.empty()) query.after = parse_integer(after, "after");
      query.tags = split_list(param(req, "tags"));
      return scalars_json(db, req.matches[1], query);
    });
    get(R"(/api/runs/([^/]+)/images)", [](store::Database& db, const Request& req) {
      return images_json(db, req.matches[1], param(req, "tag"));
    });
    get("/api/compare", [](store::Database& db, const Request& req) {
      return compare_json(db, split_list(param(req, "runs")));
    });
    const auto query = [this](const Request& req, Response& res) {
      answer(res, [&] {
        const auto [sql, limit] = query_request(req);
        return retry_when_busy([&] { return query_json(options_.database, sql, limit); });
      });
    };
    server_.Get("/api/query", query);
    server_.Post("/api/query", query);
  }

  void add_files_and_pages() {
    server_.Get(R"(/files/([^/]+)/(.+))", [this](const Request& req, Response& res) {
      fs::path file;
      try {
        const std::string run_dir = read_database(options_.database, [&](store::Database& db) {
          return find_run(db, req.matches[1]).run_dir;
        });
        if (run_dir.empty()) throw ApiError(404, fmt::format("run {} has no directory recorded", std::string(req.matches[1])));
        file = image_inside(resolve_recorded(run_dir, options_.database), req.matches[2]);
      } catch (const ApiError& e) {
        return answer_error(res, e.status(), e.what());
      }
      std::ifstream in(file, std::ios::binary);
      std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) return answer_error(res, 500, fmt::format("cannot read {}", file.string()));
      res.set_content(std::move(body), image_mime(file));
    });
    // Every page is index.html: its script shows what location.pathname asks for.
    for (const char* page : {"/", R"(/run/[^/]+)", "/compare", "/sql"})
      server_.Get(page, [](const Request&, Response& res) { answer_page(res, "index.html"); });
    server_.Get(R"(/static/([^/]+))", [](const Request& req, Response& res) { answer_page(res, req.matches[1]); });
  }

  ServeOptions options_;
  httplib::Server server_;
};

/// "http://HOST:PORT/", the token on it when there is one.
std::string url(const std::string& host, int port, const std::string& token) {
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format("http://{}:{}/{}", shown, port, token.empty() ? "" : "?token=" + token);
}

/// Blocks SIGINT and SIGTERM in this thread and in every thread it starts, and turns them
/// into server.stop() on a thread of its own, until destroyed.
class StopOnSignals {
 public:
  explicit StopOnSignals(httplib::Server& server) : server_(server) {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
    waiter_ = std::thread([this] { wait(); });
  }
  ~StopOnSignals() {
    done_ = true;
    waiter_.join();
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  void wait() {
    bool stop = false;
    const timespec tick{0, 100'000'000};
    while (!done_) {
      if (sigtimedwait(&signals_, nullptr, &tick) > 0) stop = true;
      // A signal before the server runs: stop() does nothing until it does, so keep asking.
      if (stop && server_.is_running()) server_.stop();
    }
  }

  httplib::Server& server_;
  sigset_t signals_{};
  sigset_t previous_{};
  std::atomic<bool> done_{false};
  std::thread waiter_;
};

}  // namespace

void serve_dashboard(const ServeOptions& options) {
  { store::Database check = store::open_existing(options.database); }  // a missing database is an error now, not per request
  // A client that goes away mid-answer is that request's failure, never the server's end.
  std::signal(SIGPIPE, SIG_IGN);
  Dashboard dashboard(options);
  httplib::Server& server = dashboard.server();
  StopOnSignals stop(server);
  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
    if (port < 0) port = 0;
  } else if (!server.bind_to_port(options.host, port)) {
    port = 0;
  }
  if (port == 0)
    throw Error(fmt::format("kiln serve cannot listen on {}:{}: {} (is another server using that port, or is {} not "
                            "an address of this machine?)",
                            options.host, options.port, std::strerror(errno), options.host));
  fmt::print("kiln serve: {} (database {}, read-only; Ctrl-C stops it)\n", url(options.host, port, options.token),
             options.database.string());
  std::fflush(stdout);
  server.listen_after_bind();
}

bool server_available() { return true; }

}  // namespace kiln::runner::serve
