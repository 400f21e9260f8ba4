"""Outputs that tests and benchmarks generate with a real process (scripts to run with python3)."""

# A go test run with verbose logging: ``python3 flood.py MB`` prints MB megabytes of log lines
# with 1,000 benchmark lines among them.
FLOOD = """import sys
size = int(float(sys.argv[1]) * 1e6)
line = "    bench_test.go:42: " + "noise " * 20 + "\\n"
block = line * max(1, size // 1000 // len(line))
out = sys.stdout
for i in range(max(1000, size // len(block))):
    out.write(block)
    if i < 1000:
        out.write(f"BenchmarkFlood{i}-2   \\t 1000\\t {1000 + i} ns/op\\t 64 B/op\\n")
out.write("PASS\\n")
"""
