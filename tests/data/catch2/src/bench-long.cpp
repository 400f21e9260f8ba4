#define CATCH_CONFIG_MAIN
#define CATCH_CONFIG_ENABLE_BENCHMARKING
#include <catch2/catch.hpp>
#include <numeric>
#include <string>
#include <vector>

static unsigned long fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

TEST_CASE("Fibonacci", "[bench]") {
  BENCHMARK("fib 15") { return fib(15); };
  BENCHMARK("fib 20") { return fib(20); };
}

TEST_CASE("Vectors", "[bench]") {
  BENCHMARK_ADVANCED("sum 10000")(Catch::Benchmark::Chronometer meter) {
    std::vector<int> v(10000, 1);
    meter.measure([&] { return std::accumulate(v.begin(), v.end(), 0); });
  };
  BENCHMARK("string concat of one hundred characters, one at a time, into a std::string") {
    std::string s;
    for (int i = 0; i < 100; ++i) s += "x";
    return s;
  };
}
