/**
 * The status page's model as the scheduled service feeds it: what EventSub
 * follows comes from the running watch, which starts and stops with the
 * terms of leadership, so the page asks through a holder.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { EventSub } from "../eventsub/mod.ts";
import type { Readiness } from "../ops/readiness.ts";
import { secretValues, ServiceStatus } from "../ops/status.ts";
import type { ServiceContext } from "./context.ts";

const log = getLogger(["datagen", "service"]);

/** The EventSub watch of the running term (or of HA=off), or null. */
export interface Watching {
  eventsub: EventSub | null;
}

/** What a scan reports to the page: acknowledged records, its end, the broker's state. */
export type PageFeed = Pick<ServiceStatus, "acknowledged" | "scanned" | "kafka">;

/** The page's model for the service of `context`. */
export function createPage(
  context: ServiceContext,
  options: { readiness: () => Readiness; watching: Watching },
): ServiceStatus {
  const { config } = context;
  const { watching } = options;
  const page = new ServiceStatus({
    readiness: options.readiness,
    source: context.source,
    eventsub: context.eventsub && {
      // Asked as each record arrives: every scan rewrites every live stream's record.
      watched: (userId) => watching.eventsub?.subscribed.has(userId) ?? false,
      channels: () => watching.eventsub?.subscribed.size ?? 0,
      shards: () => watching.eventsub?.conduit.connections.map((c) => c.state) ?? [],
    },
    secrets: secretValues(config),
  });
  if (config.ha !== null) page.role("standby");
  return page;
}

/**
 * `page`'s feed, whose failures are logged and go no further: it is fed as Kafka acknowledges
 * writes, and a fault of the page must not fail the scan's or the event's write.
 */
export function guardedFeed(page: PageFeed): PageFeed {
  let failures = 0;
  const guard = <A extends unknown[]>(feed: (...args: A) => void) => (...args: A) => {
    try {
      feed(...args);
    } catch (error) {
      // Once in a while, not at every write of every scan.
      if (failures++ % 1000 === 0) {
        log.error("The status page failed to take in a write ({failures} so far): {error}", {
          failures,
          error: (error as Error).message,
        });
      }
    }
  };
  return {
    acknowledged: guard((records, fromEvent) => page.acknowledged(records, fromEvent)),
    scanned: guard((summary, finishedAt) => page.scanned(summary, finishedAt)),
    kafka: guard((reachable, error) => page.kafka(reachable, error)),
  };
}
