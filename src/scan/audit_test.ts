import assert from "node:assert/strict";
import { LanguageAudit } from "./audit.ts";

const MINUTE = 60_000;

Deno.test("the start-up scan is no audit; the first scheduled tick after it is", () => {
  const audit = new LanguageAudit(60 * MINUTE);
  assert.equal(audit.due(0, { startup: true }), false);
  assert.equal(audit.due(MINUTE, { startup: false }), true);
});

Deno.test("after an audit the next one falls due once the interval has passed", () => {
  const audit = new LanguageAudit(60 * MINUTE);
  audit.done(MINUTE, true);
  assert.equal(audit.due(2 * MINUTE, { startup: false }), false);
  assert.equal(audit.due(60 * MINUTE, { startup: false }), false);
  assert.equal(audit.due(61 * MINUTE, { startup: false }), true);
});

Deno.test("a tick that comes a little early still counts as after the interval", () => {
  const audit = new LanguageAudit(MINUTE);
  audit.done(0, true);
  assert.equal(audit.due(MINUTE - 10, { startup: false }), true);
});

Deno.test("a failed audit falls due again at the next tick", () => {
  const audit = new LanguageAudit(60 * MINUTE);
  audit.done(MINUTE, false);
  assert.equal(audit.due(2 * MINUTE, { startup: false }), true);
});

Deno.test("an interval of 0 turns audits off", () => {
  const audit = new LanguageAudit(0);
  assert.equal(audit.due(MINUTE, { startup: false }), false);
});

Deno.test("languages outside the split are learned once, in the order found", () => {
  const audit = new LanguageAudit(MINUTE);
  assert.deepEqual(audit.learn(["en", "pt-br", "de", "en-gb", "pt-br"]), ["pt-br", "en-gb"]);
  assert.deepEqual(audit.learn(["en-gb", "es-mx", "other", "zh-hk"]), ["es-mx"]);
  assert.deepEqual(audit.extraLanguages, ["pt-br", "en-gb", "es-mx"]);
});
