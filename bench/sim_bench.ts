/**
 * Speed of the simulator's core: `deno bench -A src/sim/`.
 * A 100k-stream world must start in about a second and a page must cost
 * well under the 75 ms between requests at 800 points a minute.
 */

import { advanceWorld } from "../src/sim/churn.ts";
import { generateStreams } from "../src/sim/data.ts";
import { selectPage } from "../src/sim/page.ts";
import { createWorld, streamAt, type World } from "../src/sim/world.ts";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const QUERY = { first: 100, language: [], gameId: [], userId: [], userLogin: [] };

function world(churn: number): World {
  return createWorld({ seed: 1, streams: 100_000, expiredStreams: 0, churn, epoch: NOW });
}

Deno.bench("generate 100,000 whole streams", { n: 3, warmup: 1 }, () => {
  generateStreams(1, 100_000, { now: NOW });
});

Deno.bench("create a 100,000-stream world", { n: 3, warmup: 1 }, () => {
  world(0);
});

const frozen = world(0);
Deno.bench("serve page 500 of 1,000 (static, JSON included)", () => {
  const { indices } = selectPage(frozen, {
    ...QUERY,
    after: {
      first: Infinity,
      last: frozen.viewers[frozen.order[49_999]] + frozen.fraction[frozen.order[49_999]],
    },
  });
  JSON.stringify({ data: indices.map((i) => streamAt(frozen, i)), pagination: {} });
});

const lively = world(1);
let tick = NOW;
Deno.bench("serve a page with churn 1 (one step, JSON included)", () => {
  tick += 75;
  advanceWorld(lively, tick, { request: true });
  const { indices } = selectPage(lively, QUERY);
  JSON.stringify({ data: indices.map((i) => streamAt(lively, i)), pagination: {} });
});

const busy = world(1);
Deno.bench("filter a page by one rare category (static)", () => {
  selectPage(busy, { ...QUERY, gameId: ["494131"] });
});
