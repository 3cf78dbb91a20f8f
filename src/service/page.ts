/**
 * The status page's model as the scheduled service feeds it: what EventSub
 * follows comes from the running watch, which starts and stops with the
 * terms of leadership, so the page asks through a holder.
 *
 * @module
 */

import type { EventSub } from "../eventsub/mod.ts";
import type { Readiness } from "../ops/readiness.ts";
import { secretValues, ServiceStatus } from "../ops/status.ts";
import type { ServiceContext } from "./context.ts";

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
