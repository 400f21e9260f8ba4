import { bench, describe } from "vitest";

describe("sums", () => {
  bench("for loop", () => {
    let s = 0;
    for (let i = 0; i < 1000; i++) s += i;
  });
  bench("reduce", () => {
    Array.from({ length: 1000 }, (_, i) => i).reduce((a, b) => a + b, 0);
  });
});

bench("join", () => {
  ["a", "b", "c"].join("-");
});
