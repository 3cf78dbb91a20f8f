import assert from "node:assert/strict";
import { parseEventSubConfig } from "./eventsub.ts";
import { ConfigError } from "./errors.ts";

Deno.test("EventSub is off without a watchlist and leaves the URL to the source", () => {
  assert.deepEqual(parseEventSubConfig({}, "twitch"), {
    watchLogins: [],
    wsUrl: undefined,
    shards: 2,
    channels: 1000,
  });
});

Deno.test("a watchlist with SOURCE=twitch needs only the app's credentials", () => {
  const config = parseEventSubConfig({ WATCH_USER_LOGINS: "Alice, bob" }, "twitch");
  assert.deepEqual(config.watchLogins, ["alice", "bob"]);
});

Deno.test("EVENTSUB_CHANNELS past what max_total_cost allows is refused in one line naming it", () => {
  assert.equal(parseEventSubConfig({ EVENTSUB_CHANNELS: "5000" }, "twitch").channels, 5000);
  assert.throws(
    () => parseEventSubConfig({ EVENTSUB_CHANNELS: "5001" }, "twitch"),
    (e: unknown) =>
      e instanceof ConfigError && /^EVENTSUB_CHANNELS/.test(e.message) &&
      /max_total_cost/.test(e.message) && !e.message.includes("\n"),
  );
  assert.throws(
    () => parseEventSubConfig({ EVENTSUB_CHANNELS: "1", WATCH_USER_LOGINS: "a,b" }, "twitch"),
    (e: unknown) => e instanceof ConfigError && /^EVENTSUB_CHANNELS/.test(e.message),
  );
});

Deno.test("EVENTSUB_SHARDS takes 1 to 20000 shards", () => {
  assert.equal(parseEventSubConfig({ EVENTSUB_SHARDS: "20000" }, "twitch").shards, 20_000);
  assert.throws(
    () => parseEventSubConfig({ EVENTSUB_SHARDS: "0" }, "twitch"),
    (e: unknown) => e instanceof ConfigError && /^EVENTSUB_SHARDS/.test(e.message),
  );
});

Deno.test("a watchlist with SOURCE=simulated needs no Twitch credentials, whatever the URL", () => {
  const config = parseEventSubConfig({
    WATCH_USER_LOGINS: "a",
    EVENTSUB_WS_URL: "ws://127.0.0.1:8080/ws",
  }, "simulated");
  assert.deepEqual(config.watchLogins, ["a"]);
  assert.equal(config.wsUrl, "ws://127.0.0.1:8080/ws");
});

Deno.test("a URL that is not ws:// or wss:// names EVENTSUB_WS_URL", () => {
  assert.throws(
    () => parseEventSubConfig({ EVENTSUB_WS_URL: "http://x" }, "simulated"),
    (e: unknown) => e instanceof ConfigError && /^EVENTSUB_WS_URL/.test(e.message),
  );
});

Deno.test("more than 100 watched channels are refused", () => {
  const logins = Array.from({ length: 101 }, (_, i) => `c${i}`).join(",");
  assert.throws(
    () => parseEventSubConfig({ WATCH_USER_LOGINS: logins }, "simulated"),
    (e: unknown) => e instanceof ConfigError && /WATCH_USER_LOGINS/.test(e.message),
  );
});
