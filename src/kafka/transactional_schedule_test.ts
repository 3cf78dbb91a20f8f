/**
 * Seeded random schedules over terms of leadership and their transactional
 * deliveries, checked against the one rule that makes HA a single writer: no
 * commit lands after a newer term's fence, ever.
 *
 * Each schedule runs the real delivery against a fake transaction
 * coordinator. Every request to it (the fence, a send, a commit, an abort)
 * and every backoff wait is a step that the scheduler lets land in a random
 * order, with the clock advancing between steps: leases run out, instances
 * are paused (their requests and renewals held), crash (their requests in
 * flight may still land; nothing answers), restart, and get elected again.
 * A new leader is elected only once the previous one's lease has run out, as
 * the group's session timeout guarantees. Ended terms' deliveries are closed
 * late, and stale sends (a watchlist event of an ended term) keep arriving.
 *
 * `SCHEDULE_SEED=n` replays one seed; `SCHEDULES=n` runs more.
 *
 * @module
 */

import assert from "node:assert/strict";
import { seeded as generator } from "../_test_seeded.ts";
import type { Message } from "kafkajs";
import kafkajsErrors from "kafkajs/src/errors.js";
import type { StreamRecord } from "../scan/record.ts";
import {
  createTransactionalDelivery,
  type TransactionalDelivery,
  type TransactionalProducer,
} from "./transactional.ts";

const { KafkaJSConnectionError, KafkaJSProtocolError } = kafkajsErrors as unknown as {
  KafkaJSConnectionError: new (message: string, options: { broker: string }) => Error;
  KafkaJSProtocolError: new (e: object) => Error;
};

const LEASE_MS = 10_000;
const STEPS = 120;

interface Step {
  instance: Instance;
  /** Lands the request at the coordinator (or ends the wait) and answers it. */
  land(): void;
}

interface Instance {
  id: number;
  alive: boolean;
  paused: boolean;
  leaseUntil: number;
  /** Bumped by a crash: steps of an older incarnation land but are never answered. */
  incarnation: number;
}

interface TermOf {
  number: number;
  instance: Instance;
  incarnation: number;
  delivery: TransactionalDelivery;
}

/** What the coordinator saw, in order. */
type Event = { kind: "fence" | "commit"; term: number; step: number };

class Schedule {
  readonly random: () => number;
  clock = 0;
  epoch = 0;
  step = 0;
  readonly pending: Step[] = [];
  readonly events: Event[] = [];
  readonly instances: Instance[];
  readonly terms: TermOf[] = [];
  readonly trace: string[] = [];

  constructor(seed: number, instances: number) {
    this.random = generator(seed);
    this.instances = Array.from({ length: instances }, (_, i) => ({
      id: i + 1,
      alive: true,
      paused: false,
      leaseUntil: 0,
      incarnation: 0,
    }));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  /** A request on the wire: it lands when the scheduler says so. */
  request<T>(instance: Instance, land: () => T): Promise<T> {
    const incarnation = instance.incarnation;
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        instance,
        land: () => {
          let outcome: { ok: true; value: T } | { ok: false; error: unknown };
          try {
            outcome = { ok: true, value: land() };
          } catch (error) {
            outcome = { ok: false, error };
          }
          // A crashed process gets no answer, though its request landed.
          if (instance.incarnation !== incarnation) return;
          if (outcome.ok) resolve(outcome.value);
          else reject(outcome.error);
        },
      });
    });
  }

  producer(term: number, instance: Instance): TransactionalProducer {
    let epoch = -1;
    const fenced = () =>
      new KafkaJSProtocolError({
        type: "PRODUCER_FENCED",
        code: 90,
        retriable: false,
        message: "fenced",
      } as never);
    return {
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      transaction: async () => {
        if (epoch < 0) {
          // InitProducerId: the fence.
          epoch = await this.request(instance, () => {
            this.events.push({ kind: "fence", term, step: this.step });
            this.trace.push(
              `term ${term} (instance ${instance.id}) fenced: epoch ${this.epoch + 1}`,
            );
            return ++this.epoch;
          });
        }
        const mine = epoch;
        return {
          send: (record: { messages: Message[] }) =>
            this.request(instance, () => {
              if (mine !== this.epoch) throw fenced();
              if (this.random() < 0.1) {
                throw new KafkaJSConnectionError("Connection error: ECONNREFUSED", {
                  broker: "b",
                });
              }
              return [{ partition: record.messages[0].partition, errorCode: 0 }];
            }),
          commit: () =>
            this.request(instance, () => {
              if (mine !== this.epoch) throw fenced();
              this.events.push({ kind: "commit", term, step: this.step });
              this.trace.push(`term ${term} (instance ${instance.id}) committed at epoch ${mine}`);
            }),
          abort: () =>
            this.request(instance, () => {
              if (mine !== this.epoch) throw fenced();
            }),
        };
      },
    };
  }

  /** The instance leads while alive and its lease, renewed by heartbeats, has not run out. */
  mayWrite(instance: Instance): boolean {
    return instance.alive && this.clock < instance.leaseUntil;
  }

  newTerm(instance: Instance) {
    const number = this.terms.length + 1;
    // The service ends an instance's earlier term (closing its delivery) before opening the next.
    for (const term of this.terms) {
      if (term.instance === instance) void term.delivery.close();
    }
    instance.leaseUntil = this.clock + LEASE_MS;
    const delivery = createTransactionalDelivery({
      topic: "t",
      newProducer: () => this.producer(number, instance),
      partitions: () => Promise.resolve(3),
      mayWrite: () => this.mayWrite(instance),
      now: () => this.clock,
      sleep: () => this.request(instance, () => {}),
      random: this.random,
      baseMs: 1,
      capMs: 1,
    });
    this.terms.push({ number, instance, incarnation: instance.incarnation, delivery });
    this.trace.push(`term ${number} begins: instance ${instance.id} elected`);
    this.send(this.terms.at(-1)!);
  }

  send(term: TermOf) {
    const records: StreamRecord[] = Array.from({ length: 4 }, (_, i) => ({
      key: `${term.number}-${this.step}-${i}`,
      value: "{}",
      timestamp: 1,
      headers: {},
    }));
    term.delivery.send(records).catch(() => {});
  }

  /** One random action of the world. */
  act() {
    const latest = this.terms.at(-1);
    const roll = this.random();
    const runnable = this.pending.filter((s) => !s.instance.paused);
    if (roll < 0.5 && runnable.length > 0) {
      const step = this.pick(runnable);
      this.pending.splice(this.pending.indexOf(step), 1);
      step.land();
    } else if (roll < 0.62) {
      this.clock += Math.floor(this.random() * LEASE_MS * 0.6);
    } else if (roll < 0.72) {
      // Heartbeats renew the leader's lease only while its session is alive.
      if (latest && !latest.instance.paused && this.mayWrite(latest.instance)) {
        latest.instance.leaseUntil = this.clock + LEASE_MS;
      }
    } else if (roll < 0.8) {
      // The group moves leadership only once the leader's session (its lease) ran out.
      if (latest === undefined || this.clock >= latest.instance.leaseUntil) {
        const candidates = this.instances.filter((i) => i.alive && !i.paused);
        if (candidates.length > 0) this.newTerm(this.pick(candidates));
      }
    } else if (roll < 0.9) {
      // A scan's next batch, or a stale watchlist event of any term of a live instance.
      const term = this.random() < 0.6 ? latest : this.pick(this.terms);
      // A restarted process has none of its former deliveries.
      const live = term && term.instance.alive && term.incarnation === term.instance.incarnation;
      if (live) this.send(term);
    } else if (roll < 0.94) {
      // An ended term's delivery closes late (its scan stops first).
      const ended = this.terms.filter((t) => t !== latest);
      if (ended.length > 0) void this.pick(ended).delivery.close();
    } else if (roll < 0.97) {
      const instance = this.pick(this.instances);
      instance.paused = !instance.paused;
    } else {
      const instance = this.pick(this.instances);
      if (instance.alive) {
        instance.alive = false;
        instance.incarnation++;
        this.trace.push(`instance ${instance.id} crashed`);
      } else {
        instance.alive = true;
        instance.leaseUntil = 0;
        this.trace.push(`instance ${instance.id} restarted`);
      }
    }
  }

  /** A commit that landed after a fence of a newer term, or null. */
  violation(): string | null {
    for (const commit of this.events.filter((e) => e.kind === "commit")) {
      const before = this.events.slice(0, this.events.indexOf(commit));
      const newer = before.find((e) => e.kind === "fence" && e.term > commit.term);
      if (newer) {
        return `term ${commit.term} committed at step ${commit.step}, after term ${newer.term}'s fence at step ${newer.step}`;
      }
    }
    return null;
  }
}

/** Lets the deliveries run until each waits on a request or a wait of the scheduler. */
async function settle() {
  for (let i = 0; i < 60; i++) await Promise.resolve();
}

async function runSchedule(seed: number): Promise<Schedule> {
  const random = generator(seed);
  const schedule = new Schedule(seed, 2 + Math.floor(random() * 2));
  for (schedule.step = 0; schedule.step < STEPS; schedule.step++) {
    schedule.act();
    await settle();
  }
  return schedule;
}

Deno.test("no commit lands after a newer term's fence, in 1,000 random schedules", async () => {
  const replay = Deno.env.get("SCHEDULE_SEED");
  const base = replay !== undefined ? Number(replay) : Math.floor(Math.random() * 2 ** 31);
  const count = replay !== undefined ? 1 : Number(Deno.env.get("SCHEDULES") ?? 1000);
  console.log(`schedules from seed ${base} (replay one with SCHEDULE_SEED=<seed>)`);
  let commits = 0;
  let fences = 0;
  for (let i = 0; i < count; i++) {
    const seed = (base + i) >>> 0;
    const schedule = await runSchedule(seed);
    commits += schedule.events.filter((e) => e.kind === "commit").length;
    fences += schedule.events.filter((e) => e.kind === "fence").length;
    const violation = schedule.violation();
    assert.equal(
      violation,
      null,
      `seed ${seed}: ${violation}\n${schedule.trace.join("\n")}`,
    );
  }
  console.log(
    `${count} schedules: ${fences} fences and ${commits} commits, none after a newer fence`,
  );
  // The schedules exercise the rule: many terms fence, and their batches commit.
  assert.ok(commits > count, `commits happened (${commits})`);
  assert.ok(fences > count, `fences happened (${fences})`);
});
