#include <benchmark/benchmark.h>
#include <numeric>
#include <vector>

static void BM_Sum(benchmark::State& state) {
  std::vector<int> v(state.range(0), 1);
  for (auto _ : state) benchmark::DoNotOptimize(std::accumulate(v.begin(), v.end(), 0));
  state.SetBytesProcessed(state.iterations() * state.range(0) * sizeof(int));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sum)->Arg(64)->Arg(4096);

static void BM_Counter(benchmark::State& state) {
  int n = 0;
  for (auto _ : state) benchmark::DoNotOptimize(++n);
  state.counters["widgets"] = 42.5;
  state.counters["rate"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Counter)->Threads(1)->Threads(2);

static void BM_Fails(benchmark::State& state) {
  for (auto _ : state) { state.SkipWithError("resource not available"); break; }
}
BENCHMARK(BM_Fails);

BENCHMARK_MAIN();
