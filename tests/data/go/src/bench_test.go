// Benchmarks that exercise the Go text format: sub-benchmarks, custom metrics, logs, MB/s.
package gobench

import (
	"fmt"
	"sort"
	"testing"
)

func BenchmarkSort(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s := make([]int, n)
				for j := range s {
					s[j] = n - j
				}
				sort.Ints(s)
			}
		})
	}
}

func BenchmarkCustomMetric(b *testing.B) {
	b.Log("a log line inside a benchmark")
	for i := 0; i < b.N; i++ {
		_ = fmt.Sprint(i)
	}
	b.ReportMetric(42.5, "widgets/op")
}

func BenchmarkCopy(b *testing.B) {
	src := make([]byte, 1<<16)
	dst := make([]byte, 1<<16)
	b.SetBytes(int64(len(src)))
	for i := 0; i < b.N; i++ {
		copy(dst, src)
	}
}
