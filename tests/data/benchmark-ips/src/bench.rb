require "benchmark/ips"

Benchmark.ips do |x|
  x.config(time: 1, warmup: 0.2)
  x.report("addition") { 1 + 2 }
  x.report("string interpolation") { "#{1}#{2}" }
  x.report("array sum") { [1, 2, 3, 4].sum }
  x.compare!
  x.json! "ips.json"
end
