/**
 * The simulator's answer against the example response of Get Streams in
 * Twitch's API reference (testdata/helix_get_streams_example.json).
 */

import assert from "node:assert/strict";
import { startSimulator } from "./mod.ts";
import { fetchToken, getStreams } from "./_test_utils.ts";

const example = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/helix_get_streams_example.json", import.meta.url)),
);

/** The JSON type of a value, arrays with the types of their elements. */
function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `array<${[...new Set(value.map(jsonType))].sort().join("|")}>`;
  return typeof value;
}

/** Field names in order, each with its JSON type. */
function shape(object: Record<string, unknown>): [string, string][] {
  return Object.entries(object).map(([key, value]) => [key, jsonType(value)]);
}

Deno.test("an answer has the top-level fields of Twitch's example", async () => {
  await using sim = await startSimulator({ streams: 50 });
  const answer = await getStreams(sim, await fetchToken(sim));
  assert.deepEqual(Object.keys(answer.body), Object.keys(example));
  assert.deepEqual(shape(answer.body.pagination), shape(example.pagination));
});

Deno.test("every stream has the fields of Twitch's example, in its order, with its JSON types", async () => {
  await using sim = await startSimulator({ streams: 500 });
  const answer = await getStreams(sim, await fetchToken(sim), { first: "100" });
  const expected = shape(example.data[0]);
  for (const stream of answer.body.data) {
    const actual = shape(stream as unknown as Record<string, unknown>);
    assert.deepEqual(actual.map(([k]) => k), expected.map(([k]) => k));
    for (const [i, [key, type]] of actual.entries()) {
      // An empty array fits an example array of any element type (streams without tags).
      const fits = type === expected[i][1] ||
        (type === "array<>" && expected[i][1].startsWith("array<"));
      assert.ok(fits, `${key}: ${type}, Twitch's example has ${expected[i][1]}`);
    }
  }
});

Deno.test("the last page's pagination is an empty object", async () => {
  await using sim = await startSimulator({ streams: 5 });
  const answer = await getStreams(sim, await fetchToken(sim));
  assert.deepEqual(answer.body.pagination, {});
});
