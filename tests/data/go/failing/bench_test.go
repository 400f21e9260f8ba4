// Benchmarks that fail or crash, for the parser's partial-output handling.
package failing

import (
	"os"
	"testing"
)

func BenchmarkOK(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = i * 2
	}
}

func BenchmarkFails(b *testing.B) {
	b.Fatal("backend not reachable")
}

func BenchmarkPanics(b *testing.B) {
	if os.Getenv("BENCH_PANIC") != "" {
		panic("crashed half way")
	}
}
