/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week),
 * the form `Deno.cron` accepts. Parsed here so that a bad `SCHEDULE` is
 * refused at start-up with a clear message, and so that readiness can tell
 * when the next runs are due.
 *
 * @module
 */

/** A parsed cron expression: the allowed values of each field, in UTC. */
export interface CronSchedule {
  /** The expression as given. */
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /** Whether day-of-month and day-of-week were both restricted (cron then matches either). */
  readonly dayOr: boolean;
}

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

/**
 * Parses a five-field cron expression.
 *
 * @throws {Error} with a message naming the field at fault.
 */
export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === "") {
    throw new Error(
      `"${expression}" has ${
        parts[0] === "" ? 0 : parts.length
      } fields; expected five: minute hour day-of-month month day-of-week, e.g. "* * * * *"`,
    );
  }
  const sets = parts.map((part, i) => parseField(part, FIELDS[i]));
  // Sunday may be written 0 or 7.
  if (sets[4].delete(7)) sets[4].add(0);
  return {
    source: expression,
    minutes: sets[0],
    hours: sets[1],
    daysOfMonth: sets[2],
    months: sets[3],
    daysOfWeek: sets[4],
    dayOr: parts[2] !== "*" && parts[4] !== "*",
  };
}

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!match) {
      throw new Error(`${field.name} field "${text}" is not a number, range, list or step`);
    }
    let low: number = field.min;
    let high: number = field.max;
    if (match[2] !== undefined) {
      low = Number(match[2]);
      high = match[3] !== undefined ? Number(match[3]) : match[4] !== undefined ? field.max : low;
    }
    const step = match[4] !== undefined ? Number(match[4]) : 1;
    if (low < field.min || high > field.max || low > high) {
      throw new Error(
        `${field.name} field "${text}" is out of range; expected ${field.min}-${field.max}`,
      );
    }
    if (step < 1) throw new Error(`${field.name} field "${text}" has a step of 0`);
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return values;
}

/** Whether the schedule fires in the UTC minute that contains `time`. */
export function cronMatches(schedule: CronSchedule, time: Date): boolean {
  if (!schedule.minutes.has(time.getUTCMinutes())) return false;
  if (!schedule.hours.has(time.getUTCHours())) return false;
  if (!schedule.months.has(time.getUTCMonth() + 1)) return false;
  const dom = schedule.daysOfMonth.has(time.getUTCDate());
  const dow = schedule.daysOfWeek.has(time.getUTCDay());
  return schedule.dayOr ? dom || dow : dom && dow;
}

/**
 * The first time strictly after `after` at which the schedule fires, or
 * `null` when it never fires within the next five years (e.g. "0 0 31 2 *").
 */
export function nextCronRun(schedule: CronSchedule, after: Date): Date | null {
  const minute = 60_000;
  let t = Math.floor(after.getTime() / minute) * minute + minute;
  const limit = t + 5 * 366 * 24 * 60 * minute;
  while (t < limit) {
    const date = new Date(t);
    if (!schedule.months.has(date.getUTCMonth() + 1)) {
      // Jump to the first minute of the next month.
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
      continue;
    }
    if (cronMatches(schedule, date)) return date;
    t += minute;
  }
  return null;
}
