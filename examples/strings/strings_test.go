// Package strings_test compares ways of building and searching strings: the BenchHub demo.
package strings_test

import (
	"bytes"
	"strings"
	"testing"
)

var words = strings.Fields(strings.Repeat("the quick brown fox jumps over the lazy dog ", 64))

func BenchmarkConcatPlus(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s := ""
		for _, w := range words {
			s += w
		}
		_ = s
	}
}

func BenchmarkConcatBuilder(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var sb strings.Builder
		for _, w := range words {
			sb.WriteString(w)
		}
		_ = sb.String()
	}
}

func BenchmarkConcatBuffer(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var buf bytes.Buffer
		for _, w := range words {
			buf.WriteString(w)
		}
		_ = buf.String()
	}
}

func BenchmarkContains(b *testing.B) {
	haystack := strings.Join(words, " ")
	b.SetBytes(int64(len(haystack)))
	for i := 0; i < b.N; i++ {
		_ = strings.Contains(haystack, "lazy cat")
	}
}
