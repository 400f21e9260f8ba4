use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn sum(n: u64) -> u64 { (0..n).fold(0, |a, b| a.wrapping_add(black_box(b))) }

fn bench(c: &mut Criterion) {
    c.bench_function("sum 1000", |b| b.iter(|| sum(black_box(1000))));
    let mut group = c.benchmark_group("sizes");
    for n in [100u64, 10_000] {
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::new("sum", n), &n, |b, &n| b.iter(|| sum(n)));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_millis(200)).measurement_time(std::time::Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
