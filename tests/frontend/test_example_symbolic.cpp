// The first example users see builds, runs and prints the documented result.
#include <catch2/catch.hpp>

#include "tests/support/test_support.h"

TEST_CASE("example-symbolic prints D = B * A + 1", "[frontend][example]") {
  loom::test::CommandResult result =
      loom::test::run_command(loom::test::bin_path("example-symbolic"));
  INFO(result.output);
  CHECK(result.exit_code == 0);
  CHECK(result.output == "D = [3, 3, 3, 3, 3, 3, 3, 3, 3, 3]\n");
}
