import assert from "node:assert/strict";
import { cronMatches, nextCronRun, parseCron } from "./cron.ts";

Deno.test("every minute fires at the start of the next minute", () => {
  const next = nextCronRun(parseCron("* * * * *"), new Date("2026-01-01T10:00:30Z"));
  assert.equal(next?.toISOString(), "2026-01-01T10:01:00.000Z");
});

Deno.test("steps, ranges and lists select exactly their values", () => {
  const schedule = parseCron("*/15 9-10 * * 1,3");
  assert.deepEqual([...schedule.minutes], [0, 15, 30, 45]);
  assert.deepEqual([...schedule.hours], [9, 10]);
  assert.deepEqual([...schedule.daysOfWeek], [1, 3]);
});

Deno.test("Sunday may be written 7", () => {
  assert.deepEqual([...parseCron("0 0 * * 7").daysOfWeek], [0]);
});

Deno.test("the next run skips to the matching weekday", () => {
  // 2026-01-01 is a Thursday; the next Monday 09:00 is 2026-01-05.
  const next = nextCronRun(parseCron("0 9 * * 1"), new Date("2026-01-01T12:00:00Z"));
  assert.equal(next?.toISOString(), "2026-01-05T09:00:00.000Z");
});

Deno.test("day of month and day of week restricted together match either", () => {
  const schedule = parseCron("0 0 13 * 5");
  assert.equal(cronMatches(schedule, new Date("2026-02-13T00:00:00Z")), true); // the 13th
  assert.equal(cronMatches(schedule, new Date("2026-02-06T00:00:00Z")), true); // a Friday
  assert.equal(cronMatches(schedule, new Date("2026-02-07T00:00:00Z")), false);
});

Deno.test("a date that never comes has no next run", () => {
  assert.equal(nextCronRun(parseCron("0 0 31 2 *"), new Date("2026-01-01T00:00:00Z")), null);
});

Deno.test("malformed expressions are refused with the field at fault", () => {
  const cases: [string, string][] = [
    [
      "* * * *",
      '"* * * *" has 4 fields; expected five: minute hour day-of-month month day-of-week, e.g. "* * * * *"',
    ],
    [
      "",
      '"" has 0 fields; expected five: minute hour day-of-month month day-of-week, e.g. "* * * * *"',
    ],
    ["60 * * * *", 'minute field "60" is out of range; expected 0-59'],
    ["* 5-2 * * *", 'hour field "5-2" is out of range; expected 0-23'],
    ["* * 0 * *", 'day of month field "0" is out of range; expected 1-31'],
    ["* * * jan *", 'month field "jan" is not a number, range, list or step'],
    ["*/0 * * * *", 'minute field "*/0" has a step of 0'],
  ];
  for (const [expression, message] of cases) {
    assert.throws(() => parseCron(expression), { message }, expression);
  }
});
