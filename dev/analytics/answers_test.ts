import assert from "node:assert/strict";
import { answersFromStreams, ChangelogFold } from "./answers.ts";
import type { HelixStream } from "../../src/helix/stream.ts";

function stream(id: string, fields: Partial<HelixStream> = {}): HelixStream {
  return {
    id,
    user_id: `u${id}`,
    user_login: `login${id}`,
    user_name: `Name${id}`,
    game_id: "1",
    game_name: "Chess",
    type: "live",
    title: "",
    tags: [],
    viewer_count: 1,
    started_at: "2026-01-01T00:00:00Z",
    language: "en",
    thumbnail_url: "",
    tag_ids: [],
    is_mature: false,
    ...fields,
  };
}

Deno.test("a changelog folds into the rows it leaves: updates replace, deletes remove", () => {
  const fold = new ChangelogFold();
  const row = (n: number) => JSON.stringify({ live_streams: n });
  assert.ok(fold.apply(["+I", "live_streams", row(1)]));
  assert.ok(fold.apply(["-U", "live_streams", row(1)]));
  assert.ok(fold.apply(["+U", "live_streams", row(2)]));
  assert.equal(fold.answers().live_streams, 2);
  const game = (rank: number, name: string) =>
    JSON.stringify({ rank, game_name: name, streams: 3 - rank, viewers: 9 });
  fold.apply(["+I", "top_games", game(2, "Go")]);
  fold.apply(["+I", "top_games", game(1, "Chess")]);
  fold.apply(["+I", "top_games", game(1, "Chess")]);
  fold.apply(["-D", "top_games", game(1, "Chess")]);
  assert.deepEqual(fold.answers().top_games, [
    { game_name: "Chess", streams: 2, viewers: 9 },
    { game_name: "Go", streams: 1, viewers: 9 },
  ]);
  fold.apply(["-D", "top_games", game(1, "Chess")]);
  fold.apply(["-D", "live_streams", row(2)]);
  assert.deepEqual(fold.answers().top_games, [{ game_name: "Go", streams: 1, viewers: 9 }]);
  assert.equal(fold.answers().live_streams, 0);
});

Deno.test("a retraction of a row never sent is an error, and foreign lines are not applied", () => {
  const fold = new ChangelogFold();
  assert.throws(() => fold.apply(["-U", "top_tags", "{}"]), /retracted a row it never sent/);
  assert.equal(fold.apply(["ready"]), false);
  assert.equal(fold.apply(["+I", "nonsense", "{}"]), false);
  assert.equal(fold.apply(["+X", "top_tags", "{}"]), false);
});

Deno.test("answers from streams: ranks and their ties, recent streams, tags counted per stream", () => {
  const now = Date.parse("2026-01-01T01:00:00Z");
  const streams = [
    stream("3", { viewer_count: 50, tags: ["a", "a", "b"] }),
    stream("2", { viewer_count: 50, tags: ["b"], started_at: "2026-01-01T00:50:00Z" }),
    stream("1", { game_id: "2", game_name: "Go", viewer_count: 7, tags: null }),
    stream("4", { game_id: "", game_name: "", viewer_count: 900, tags: ["c"] }),
    stream("5", {
      game_id: "3",
      game_name: "Art",
      viewer_count: 7,
      started_at: "2026-01-01T00:45:00Z",
    }),
  ];
  const answers = answersFromStreams(streams, now);
  assert.equal(answers.as_of, "2026-01-01T01:00:00.000Z");
  assert.equal(answers.live_streams, 5);
  assert.deepEqual(answers.top_games, [
    { game_name: "Chess", streams: 2, viewers: 100 },
    { game_name: "Art", streams: 1, viewers: 7 },
    { game_name: "Go", streams: 1, viewers: 7 },
  ]);
  assert.deepEqual(answers.top_streamer_per_game.map((s) => s.user_login), [
    "login2",
    "login5",
    "login1",
  ]);
  // 00:45:00 is exactly 15 minutes before: not after it, so not recent.
  assert.deepEqual(answers.started_last_15_min.map((s) => s.id), ["2"]);
  assert.deepEqual(answers.top_tags, [
    { tag: "b", streams: 2 },
    { tag: "a", streams: 1 },
    { tag: "c", streams: 1 },
  ]);
});
