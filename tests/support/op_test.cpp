#include "tests/support/op_test.h"

#include <catch2/catch.hpp>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/serialize.h"
#include "ir/verifier.h"
#include "runtime/interp/interpreter.h"
#include "runtime/npy.h"
#include "tests/support/test_support.h"

namespace loom::test {

namespace {

struct RoundTrips {
  std::unique_ptr<ir::Module> from_text;
  std::unique_ptr<ir::Module> from_proto;
};

RoundTrips round_trip(const ir::Module& module) {
  ir::verify(module);
  std::string text = ir::print_module(module);
  RoundTrips copies;
  copies.from_text = ir::parse_module(text, "round_trip.loom");
  INFO("printed module:\n" << text);
  REQUIRE(ir::print_module(*copies.from_text) == text);

  std::string bytes = ir::serialize_module(module);
  copies.from_proto = ir::deserialize_module(bytes, "round_trip.loompb");
  REQUIRE(ir::serialize_module(*copies.from_proto) == bytes);
  REQUIRE(ir::print_module(*copies.from_proto) == text);
  return copies;
}

const ir::Function& same_function(const ir::Module& m, const std::string& name) {
  const ir::Function* f = m.find_function(name);
  REQUIRE(f != nullptr);
  return *f;
}

} // namespace

void check_round_trips(const ir::Module& module) { round_trip(module); }

void check_function(const ir::Function& fn, const std::vector<Tensor>& inputs,
                    const std::vector<Tensor>& expected, Tolerance tol) {
  REQUIRE(fn.parent() != nullptr);
  RoundTrips copies = round_trip(*fn.parent());

  std::vector<Tensor> got = interp::evaluate(fn, inputs);
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("output " << i << " '" << fn.outputs()[i].name << "'");
    std::string mismatch = compare_tensors(got[i], expected[i], tol.rtol, tol.atol);
    CHECK(mismatch == "");
  }
  for (const ir::Module* copy : {copies.from_text.get(), copies.from_proto.get()}) {
    std::vector<Tensor> again = interp::evaluate(same_function(*copy, fn.name()), inputs);
    REQUIRE(again.size() == got.size());
    for (size_t i = 0; i < got.size(); ++i)
      CHECK(again[i].bit_equal(got[i]));
  }
}

Tensor load_test_npy(const std::string& relative) {
  return read_npy(source_path("tests/data/" + relative + ".npy"));
}

} // namespace loom::test
