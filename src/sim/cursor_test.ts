import assert from "node:assert/strict";
import { decodeCursor, encodeCursor } from "./cursor.ts";

const KEY = 1234;

Deno.test("a cursor decodes to the position it was made from", () => {
  const cursor = encodeCursor({ first: 78365.4441, last: 1490.25 }, { key: KEY, nonce: 1 });
  assert.deepEqual(decodeCursor(cursor, { key: KEY }), { first: 78365.4441, last: 1490.25 });
});

Deno.test("a cursor is an opaque URL-safe string", () => {
  const cursor = encodeCursor({ first: 3.5, last: 0.125 }, { key: KEY, nonce: 9 });
  assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  assert.ok(!cursor.includes("3.5"));
});

Deno.test("equal positions with different nonces give different cursors", () => {
  const a = encodeCursor({ first: 2, last: 1 }, { key: KEY, nonce: 1 });
  const b = encodeCursor({ first: 2, last: 1 }, { key: KEY, nonce: 2 });
  assert.notEqual(a, b);
});

Deno.test("garbage, tampered and foreign cursors are rejected", () => {
  const cursor = encodeCursor({ first: 2, last: 1 }, { key: KEY, nonce: 1 });
  assert.equal(decodeCursor("not a cursor", { key: KEY }), null);
  assert.equal(decodeCursor("", { key: KEY }), null);
  assert.equal(
    decodeCursor(btoa('{"b":2,"a":0,"n":1,"k":0}').replace(/=+$/, ""), { key: KEY }),
    null,
  );
  assert.equal(decodeCursor(cursor, { key: KEY + 1 }), null);
  assert.equal(decodeCursor(cursor.slice(0, -2), { key: KEY }), null);
});
