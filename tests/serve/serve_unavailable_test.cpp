// In a build without cpp-httplib: kiln serve's process tests cannot run, and this says why.
#include <gtest/gtest.h>

#include "serve/server.hpp"

namespace kiln::runner::serve {
namespace {

TEST(serve_api, skipped_without_cpp_httplib) {
  ASSERT_FALSE(server_available());
  GTEST_SKIP() << kServerUnavailable;
}

}  // namespace
}  // namespace kiln::runner::serve
