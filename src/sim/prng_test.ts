import assert from "node:assert/strict";
import { cumulativeWeights, hash32, pickWeighted, Prng } from "./prng.ts";

Deno.test("equal seeds give equal sequences and different seeds different ones", () => {
  const a = new Prng(5);
  const b = new Prng(5);
  const c = new Prng(6);
  const seqA = Array.from({ length: 8 }, () => a.uint32());
  assert.deepEqual(seqA, Array.from({ length: 8 }, () => b.uint32()));
  assert.notDeepEqual(seqA, Array.from({ length: 8 }, () => c.uint32()));
});

Deno.test("hash32 depends on every word and their order", () => {
  assert.equal(hash32(1, 2), hash32(1, 2));
  assert.notEqual(hash32(1, 2), hash32(2, 1));
  assert.notEqual(hash32(1, 2), hash32(1, 2, 0));
});

Deno.test("uniform numbers stay in [0, 1) and integers in their bounds", () => {
  const rng = new Prng(1);
  for (let i = 0; i < 10_000; i++) {
    const u = rng.next();
    assert.ok(u >= 0 && u < 1);
    const n = rng.int(3, 5);
    assert.ok(n >= 3 && n <= 5 && Number.isInteger(n));
  }
});

Deno.test("weighted picks follow the weights", () => {
  const cdf = cumulativeWeights([1, 0, 3]);
  assert.deepEqual([...cdf], [0.25, 0.25, 1]);
  assert.equal(pickWeighted(cdf, 0), 0);
  assert.equal(pickWeighted(cdf, 0.2499), 0);
  assert.equal(pickWeighted(cdf, 0.25), 2);
  assert.equal(pickWeighted(cdf, 0.9999), 2);
});

Deno.test("stochastic rounding keeps the mean", () => {
  const rng = new Prng(3);
  let sum = 0;
  for (let i = 0; i < 10_000; i++) sum += rng.roundStochastic(0.3);
  assert.ok(sum > 2800 && sum < 3200, String(sum));
});
