// The pass manager: registry, pipeline flags, levels, verification, printing, timing.
#include <catch2/catch.hpp>

#include <sstream>

#include "ir/error.h"
#include "ir/parser.h"
#include "passes/pass.h"

using namespace loom;

namespace {

const char* kSmall = "func @f(%x: f32[3]) -> (out: f32[3]) {\n"
                     "  %one = constant() {value = dense<[1.0]> : f32[]} : f32[]\n"
                     "  %a = mul(%x, %one) : f32[3]\n"
                     "  %out = exp(%a) : f32[3]\n"
                     "  return %out\n"
                     "}\n";

bool has_code(const Error& e, ErrorCode code) { return e.code() == code; }

} // namespace

TEST_CASE("every pass of the levels is registered", "[passes][pipeline]") {
  for (const char* level : {"O0", "O1", "O2"})
    for (const std::string& name : passes::level_pipeline(level))
      CHECK(passes::find_pass(name) != nullptr);
  CHECK(passes::level_pipeline("O0").empty());
  CHECK(passes::level_pipeline("O2").back() == "plan-memory");
  CHECK_THROWS_MATCHES(passes::level_pipeline("O3"), Error,
                       Catch::Predicate<Error>(
                           [](const Error& e) { return has_code(e, ErrorCode::InvalidArgument); }));
}

TEST_CASE("pipeline flags", "[passes][pipeline]") {
  CHECK(passes::pipeline_from_flag("--passes=simplify,dce") ==
        std::vector<std::string>{"simplify", "dce"});
  CHECK(passes::pipeline_from_flag("-O1") == passes::level_pipeline("O1"));
  CHECK_THROWS_WITH(passes::pipeline_from_flag("--passes=simplify,bogus"),
                    Catch::Contains("unknown pass 'bogus'") && Catch::Contains("plan-memory"));
  CHECK_THROWS_MATCHES(passes::pipeline_from_flag("-O7"), Error,
                       Catch::Predicate<Error>(
                           [](const Error& e) { return has_code(e, ErrorCode::InvalidArgument); }));
}

TEST_CASE("timings, printing after passes", "[passes][pipeline]") {
  auto module = ir::parse_module(kSmall);
  std::ostringstream dump;
  passes::PipelineOptions options;
  options.print_after = {"simplify"};
  options.print_stream = &dump;
  passes::PipelineResult result = passes::run_pipeline(*module, {"simplify", "dce"}, options);
  REQUIRE(result.timings.size() == 2);
  CHECK(result.timings[0].name == "simplify");
  CHECK(result.timings[0].changed);
  CHECK_FALSE(result.timings[1].changed);
  CHECK(result.total_milliseconds >= 0);
  std::string table = result.timing_table();
  CHECK_THAT(table, Catch::Contains("simplify") && Catch::Contains("total"));
  CHECK_THAT(dump.str(),
             Catch::Contains("IR of @f after simplify") && Catch::Contains("%out = exp(%x)"));
  CHECK_THAT(dump.str(), !Catch::Contains("after dce"));

  std::ostringstream all;
  options.print_after.clear();
  options.print_after_all = true;
  options.print_stream = &all;
  passes::run_pipeline(*module, {"cse", "dce"}, options);
  CHECK_THAT(all.str(), Catch::Contains("after cse") && Catch::Contains("after dce"));
}

TEST_CASE("verify-each names the pass that broke the IR", "[passes][pipeline]") {
  // A registered pass cannot be broken on purpose, so break the IR between runs: the
  // verifier after the next pass reports it (naming that pass).
  auto module = ir::parse_module(kSmall);
  ir::Function& fn = *module->functions()[0];
  ir::Node* exp = fn.nodes().back().get();
  exp->result()->set_type({DType::F32, {4}}); // no longer what the shape rule gives
  passes::PipelineOptions options;
  options.verify_each = true;
  CHECK_THROWS_WITH(passes::run_pipeline(fn, {"dce"}, options),
                    Catch::Contains("IR invalid after pass 'dce'"));
  options.verify_each = false;
  CHECK_NOTHROW(passes::run_pipeline(fn, {"dce"}, options));
}
