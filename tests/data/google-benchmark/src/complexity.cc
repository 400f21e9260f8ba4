#include <benchmark/benchmark.h>
#include <algorithm>
#include <cstdlib>
#include <vector>

static void BM_Sort(benchmark::State& state) {
  std::vector<int> v(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int>((i * 2654435761u) % 1000003);
    state.ResumeTiming();
    std::sort(v.begin(), v.end());
    benchmark::DoNotOptimize(v.data());
  }
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_Sort)->RangeMultiplier(4)->Range(256, 16384)->Complexity();

static void BM_Fill(benchmark::State& state) {
  std::vector<int> v(state.range(0));
  for (auto _ : state) { std::fill(v.begin(), v.end(), 7); benchmark::DoNotOptimize(v.data()); }
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_Fill)->RangeMultiplier(4)->Range(256, 16384)->Complexity(benchmark::oN);

static void BM_Crash(benchmark::State& state) {
  if (std::getenv("BENCH_CRASH")) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(state.iterations());
}
BENCHMARK(BM_Crash);

BENCHMARK_MAIN();
