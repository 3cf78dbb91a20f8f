import assert from "node:assert/strict";
import { ALL_LANGUAGES, BIG_LANGUAGES, planScan, splitsByLanguage } from "./plan.ts";

const none = { languages: [], gameIds: [], userLogins: [] };

Deno.test("an unfiltered scan is sharded over every language, each exactly once", () => {
  const plan = planScan(none, "auto");
  assert.equal(plan.sharded, true);
  const languages = plan.queries.flatMap((q) => q.language!);
  assert.deepEqual([...languages].sort(), [...ALL_LANGUAGES].sort());
  assert.equal(new Set(languages).size, ALL_LANGUAGES.length);
  for (const q of plan.queries) assert.ok(q.language!.length <= 100);
  assert.equal(plan.queries.length, BIG_LANGUAGES.length + 2);
});

Deno.test("sequential mode asks one query without filters", () => {
  assert.deepEqual(planScan(none, "sequential"), { queries: [{}], sharded: false });
});

Deno.test("a language filter shards by the given languages, keeping the other filters", () => {
  const plan = planScan({ ...none, languages: ["de", "fr"], gameIds: ["1"] }, "auto");
  assert.deepEqual(plan, {
    queries: [{ language: ["de"], game_id: ["1"] }, { language: ["fr"], game_id: ["1"] }],
    sharded: true,
  });
});

Deno.test("a game filter alone shards by game", () => {
  assert.deepEqual(planScan({ ...none, gameIds: ["1", "2"] }, "auto").queries, [
    { game_id: ["1"] },
    { game_id: ["2"] },
  ]);
});

Deno.test("a user filter or MAX_STREAMS is scanned sequentially", () => {
  assert.deepEqual(planScan({ ...none, userLogins: ["a"] }, "sharded"), {
    queries: [{ user_login: ["a"] }],
    sharded: false,
  });
  assert.deepEqual(planScan({ ...none, maxStreams: 10 }, "sharded"), {
    queries: [{}],
    sharded: false,
  });
});

Deno.test("an audit pages the language split's query unsplit", () => {
  assert.deepEqual(planScan(none, "auto", { audit: true }), { queries: [{}], sharded: false });
  assert.deepEqual(planScan({ ...none, gameIds: ["1"] }, "auto", { audit: true }), {
    queries: [{ game_id: ["1"] }],
    sharded: false,
  });
});

Deno.test("languages found by an audit join the split, each exactly once", () => {
  const plan = planScan(none, "auto", { extraLanguages: ["en-gb", "pt-br"] });
  const languages = plan.queries.flatMap((q) => q.language!);
  assert.deepEqual([...languages].sort(), [...ALL_LANGUAGES, "en-gb", "pt-br"].sort());
  assert.equal(new Set(languages).size, languages.length);
});

Deno.test("only an unfiltered (or single-game) sharded scan splits by language", () => {
  assert.equal(splitsByLanguage(none, "auto"), true);
  assert.equal(splitsByLanguage({ ...none, gameIds: ["1"] }, "sharded"), true);
  assert.equal(splitsByLanguage(none, "sequential"), false);
  assert.equal(splitsByLanguage({ ...none, languages: ["en"] }, "auto"), false);
  assert.equal(splitsByLanguage({ ...none, gameIds: ["1", "2"] }, "auto"), false);
  assert.equal(splitsByLanguage({ ...none, maxStreams: 5 }, "auto"), false);
});
