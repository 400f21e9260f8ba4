import { bench, group, run } from "mitata";
bench("RegExp#test", () => /o/.test("Hello World!"));
group("strings", () => {
  bench("String#indexOf", () => "Hello World!".indexOf("o") > -1);
  bench("Array#join", () => ["a", "b", "c"].join("-"));
});
await run({ format: { json: { samples: false, debug: false } } });
