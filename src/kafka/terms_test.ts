import assert from "node:assert/strict";
import { createTerms } from "./terms.ts";

function recorder(options: { failOpens?: number; openDelayMs?: number } = {}) {
  const events: string[] = [];
  let sessions = 0;
  let failures = options.failOpens ?? 0;
  const terms = createTerms<number>({
    async open() {
      await new Promise((resolve) => setTimeout(resolve, options.openDelayMs ?? 0));
      if (failures-- > 0) throw new Error("broker away");
      const session = ++sessions;
      events.push(`open ${session}`);
      return session;
    },
    close(session) {
      events.push(`close ${session}`);
      return Promise.resolve();
    },
    begin(term) {
      events.push(`begin ${term.session}`);
    },
    end(term) {
      events.push(`end ${term.session} aborted=${term.signal.aborted}`);
      return Promise.resolve();
    },
    failed(error) {
      events.push(`failed ${(error as Error).message}`);
    },
    retryMs: 10,
  });
  return { terms, events };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

Deno.test("a leader opens its session before it begins, and ends its work before closing", async () => {
  const { terms, events } = recorder();
  terms.change("leader");
  await settled();
  assert.equal(terms.current()?.session, 1);
  terms.change("standby");
  await settled();
  await terms.stop();
  assert.deepEqual(events, ["open 1", "begin 1", "end 1 aborted=true", "close 1"]);
  assert.equal(terms.current(), null);
});

Deno.test("leadership lost while the session opens closes it without a term", async () => {
  const { terms, events } = recorder({ openDelayMs: 20 });
  terms.change("leader");
  await new Promise((resolve) => setTimeout(resolve, 5));
  terms.change("standby");
  await terms.stop();
  assert.deepEqual(events, ["open 1", "close 1"]);
});

Deno.test("a session that fails to open is retried while still leader", async () => {
  const { terms, events } = recorder({ failOpens: 2 });
  terms.change("leader");
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(terms.current()?.session, 1);
  await terms.stop();
  assert.deepEqual(events, [
    "failed broker away",
    "failed broker away",
    "open 1",
    "begin 1",
    "end 1 aborted=true",
    "close 1",
  ]);
});

Deno.test("only the latest change counts: leader then standby at once opens nothing", async () => {
  const { terms, events } = recorder();
  terms.change("leader");
  terms.change("standby");
  await settled();
  await terms.stop();
  assert.deepEqual(events, []);
});

Deno.test("a second leader event during a term opens nothing new", async () => {
  const { terms, events } = recorder();
  terms.change("leader");
  await settled();
  terms.change("leader");
  await settled();
  await terms.stop();
  assert.deepEqual(events, ["open 1", "begin 1", "end 1 aborted=true", "close 1"]);
});
