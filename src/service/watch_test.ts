import assert from "node:assert/strict";
import { createHandOver } from "./watch.ts";
import { fakeSession } from "./_test_utils.ts";
import type { ScanSession } from "./scheduled_scan.ts";
import { liveStream, streamRecord } from "../scan/record.ts";
import { fakeStream } from "../scan/_test_utils.ts";

const stream = fakeStream("7", { user_id: "107" });
const record = streamRecord(stream, { scanId: "eventsub", fetchedAt: 1 });

Deno.test("a standby refuses an event's records, and reads an empty live set", async () => {
  const handOver = createHandOver({ active: () => null, stepDown: () => assert.fail() });
  await assert.rejects(handOver.send([record]), /standing by: another instance leads/);
  assert.equal(handOver.live().size, 0);
});

Deno.test("events go through the session that scans now, and read its live set", async () => {
  let current: ScanSession = fakeSession(new Map([[stream.id, liveStream(stream)]]));
  const first = current;
  const handOver = createHandOver({ active: () => current, stepDown: () => assert.fail() });
  assert.equal(handOver.live(), first.state);
  await handOver.send([record]);
  current = fakeSession();
  await handOver.send([record]);
  assert.equal((first as ReturnType<typeof fakeSession>).delivery.acknowledged.length, 1);
  assert.equal((current as ReturnType<typeof fakeSession>).delivery.acknowledged.length, 1);
});

Deno.test("a fenced send steps down at once and still fails", async () => {
  const session = fakeSession();
  session.delivery.refuse = new Error("fenced");
  session.delivery.lostLeadership = true;
  let stepDowns = 0;
  const handOver = createHandOver({ active: () => session, stepDown: () => stepDowns++ });
  await assert.rejects(handOver.send([record]), /fenced/);
  assert.equal(stepDowns, 1);
});

Deno.test("a send that fails for another reason does not step down", async () => {
  const session = fakeSession();
  session.delivery.refuse = new Error("timeout");
  let stepDowns = 0;
  const handOver = createHandOver({ active: () => session, stepDown: () => stepDowns++ });
  await assert.rejects(handOver.send([record]), /timeout/);
  assert.equal(stepDowns, 0);
});
