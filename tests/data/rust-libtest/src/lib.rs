#![feature(test)]
extern crate test;

pub fn sum_to(n: u64) -> u64 {
    (0..n).sum()
}

pub fn fib(n: u32) -> u64 {
    if n < 2 { n as u64 } else { fib(n - 1) + fib(n - 2) }
}

#[cfg(test)]
mod benches {
    use super::*;
    use test::{black_box, Bencher};

    #[bench]
    fn bench_sum_1000(b: &mut Bencher) {
        b.iter(|| sum_to(black_box(1000)));
    }

    #[bench]
    fn bench_fib_15(b: &mut Bencher) {
        b.iter(|| fib(black_box(15)));
    }

    #[bench]
    fn bench_bytes(b: &mut Bencher) {
        let data = vec![1u8; 4096];
        b.bytes = data.len() as u64;
        b.iter(|| black_box(&data).iter().map(|&x| x as u64).sum::<u64>());
    }

    #[bench]
    fn bench_panics(b: &mut Bencher) {
        if std::env::var("BENCH_PANIC").is_ok() {
            panic!("boom");
        }
        b.iter(|| 2);
    }

    #[bench]
    #[ignore]
    fn bench_ignored(b: &mut Bencher) {
        b.iter(|| 1);
    }
}
