/**
 * What measuring a record's UTF-8 size costs, per way of measuring it, over
 * values shaped like Helix stream objects: ASCII, emoji and CJK titles.
 *
 *   deno bench bench/batcher_bench.ts
 */

import { Buffer } from "node:buffer";
import { recordSize } from "../src/scan/batcher.ts";

/** UTF-8 length by a loop over UTF-16 units, the usual hand-written way. */
function utf8Loop(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
    } else if (unit >= 0xd800 && unit < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2;
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

function value(title: string): string {
  return JSON.stringify({
    id: "40123456789",
    user_id: "123456789",
    user_login: "some_channel",
    user_name: "Some Channel",
    game_id: "509658",
    game_name: "Just Chatting",
    type: "live",
    title,
    tags: ["English", "Chill"],
    viewer_count: 1234,
    started_at: "2026-11-29T10:00:00Z",
    language: "en",
    thumbnail_url:
      "https://static-cdn.jtvnw.net/previews-ttv/live_user_some_channel-{width}x{height}.jpg",
    tag_ids: [],
    is_mature: false,
  });
}

const VALUES = [
  value("chill stream, come hang out and say hi ".repeat(3)),
  value("🎮🔥 ranked grind 🔥🎮 ".repeat(5)),
  value("初見さん歓迎!まったり雑談配信、のんびりやっていきます".repeat(3)),
];
const encoder = new TextEncoder();
const scratch = new Uint8Array(64 * 1024);

for (
  const [name, measure] of [
    ["loop over UTF-16 units", utf8Loop],
    ["TextEncoder.encode(text).length", (text: string) => encoder.encode(text).length],
    [
      "TextEncoder.encodeInto(scratch).written",
      (text: string) => encoder.encodeInto(text, scratch).written,
    ],
    ["Buffer.byteLength(text, 'utf8')", (text: string) => Buffer.byteLength(text, "utf8")],
  ] as const
) {
  Deno.bench(name, { group: "utf8 size of 3 stream values" }, () => {
    let total = 0;
    for (const text of VALUES) total += measure(text);
    if (total === 0) throw new Error("unreachable");
  });
}

Deno.bench("recordSize of 3 stream records (2 headers each)", () => {
  let total = 0;
  for (const text of VALUES) {
    total += recordSize({
      key: "40123456789",
      value: text,
      timestamp: 0,
      headers: {
        "scan-id": "6f1c2d9e-2c1e-4c59-9d1b-0a4f3b2e7c11",
        "fetched-at": "2026-11-29T10:00:00.000Z",
      },
    });
  }
  if (total === 0) throw new Error("unreachable");
});
