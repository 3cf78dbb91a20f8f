import assert from "node:assert/strict";
import { coalesceSends } from "./coalesce.ts";
import type { StreamRecord } from "../scan/record.ts";

const record = (key: string): StreamRecord => ({ key, value: null, timestamp: 0, headers: {} });

Deno.test("records handed over during a send go out together in the next, and each caller learns its outcome", async () => {
  const sends: string[][] = [];
  let release: () => void = () => {};
  const send = coalesceSends((records) => {
    sends.push(records.map((r) => r.key));
    if (sends.length === 2) return Promise.reject(new Error("broker down"));
    if (sends.length > 2) return Promise.resolve();
    return new Promise<void>((resolve) => release = resolve);
  });
  const first = send([record("a")]);
  const second = send([record("b")]);
  const third = send([record("c"), record("d")]);
  release();
  await first;
  await assert.rejects(second, /broker down/);
  await assert.rejects(third, /broker down/);
  assert.deepEqual(sends, [["a"], ["b", "c", "d"]]);
  // After a failure the next records get a send of their own.
  await send([record("e")]);
  assert.deepEqual(sends.at(-1), ["e"]);
});
