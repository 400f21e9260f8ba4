const Benchmark = require("benchmark");
const suite = new Benchmark.Suite();
suite
  .add("RegExp#test", () => /o/.test("Hello World!"))
  .add("String#indexOf", () => "Hello World!".indexOf("o") > -1)
  .add("Array#join", () => ["a", "b", "c"].join("-"))
  .on("cycle", (event) => console.log(String(event.target)))
  .on("complete", function () {
    console.log("Fastest is " + this.filter("fastest").map("name"));
    require("fs").writeFileSync("benchmarkjs-stats.json", JSON.stringify(this.map((b) => ({ name: b.name, hz: b.hz, rme: b.stats.rme, samples: b.stats.sample.length, mean: b.stats.mean })), null, 1));
  })
  .run({ async: false });
