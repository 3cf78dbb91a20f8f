/**
 * Twitch's EventSub WebSocket messages and subscription objects as the
 * simulator sends them: plain data in, JSON-ready objects out.
 *
 * @module
 */

import { describeSubscription, type SimShard, type SimSubscription } from "./eventsub_registry.ts";

function metadata(type: string, at: number) {
  return {
    message_id: crypto.randomUUID(),
    message_type: type,
    message_timestamp: new Date(at).toISOString(),
  };
}

/** `session_welcome`. */
export function welcomeMessage(sessionId: string, at: number, keepaliveSeconds: number): unknown {
  return {
    metadata: metadata("session_welcome", at),
    payload: {
      session: {
        id: sessionId,
        status: "connected",
        keepalive_timeout_seconds: keepaliveSeconds,
        reconnect_url: null,
        connected_at: new Date(at).toISOString(),
      },
    },
  };
}

/** `session_keepalive`. */
export function keepaliveMessage(at: number): unknown {
  return { metadata: metadata("session_keepalive", at), payload: {} };
}

/** `session_reconnect`, pointing at `url`. */
export function reconnectMessage(sessionId: string, url: string, at: number): unknown {
  return {
    metadata: metadata("session_reconnect", at),
    payload: {
      session: {
        id: sessionId,
        status: "reconnecting",
        keepalive_timeout_seconds: null,
        reconnect_url: url,
        connected_at: new Date(at).toISOString(),
      },
    },
  };
}

/** The channel and, for stream.online, the broadcast an event is about. */
export interface EventFacts {
  user: { user_id: string; user_login: string; user_name: string };
  /** The broadcast that went online (stream.online only). */
  stream?: { id: string; started_at: string };
}

/** A stream.online or stream.offline `notification` for `sub`, as Twitch words it. */
export function notificationMessage(sub: SimSubscription, facts: EventFacts, at: number): unknown {
  const event: Record<string, string> = {
    broadcaster_user_id: facts.user.user_id,
    broadcaster_user_login: facts.user.user_login,
    broadcaster_user_name: facts.user.user_name,
  };
  if (facts.stream) {
    Object.assign(event, {
      id: facts.stream.id,
      type: "live",
      started_at: facts.stream.started_at,
    });
  }
  return {
    metadata: {
      ...metadata("notification", at),
      subscription_type: sub.type,
      subscription_version: "1",
    },
    payload: { subscription: describeSubscription(sub), event },
  };
}

/** A `revocation` of `sub`, whose status says why. */
export function revocationMessage(sub: SimSubscription, at: number): unknown {
  return {
    metadata: {
      ...metadata("revocation", at),
      subscription_type: sub.type,
      subscription_version: "1",
    },
    payload: { subscription: describeSubscription(sub) },
  };
}

/** A `conduit.shard.disabled` notification for `sub` about `shard` of `conduitId`. */
export function shardDisabledMessage(
  sub: SimSubscription,
  conduitId: string,
  shard: SimShard,
  at: number,
): unknown {
  return {
    metadata: {
      ...metadata("notification", at),
      subscription_type: sub.type,
      subscription_version: "1",
    },
    payload: {
      subscription: describeSubscription(sub),
      event: {
        conduit_id: conduitId,
        shard_id: shard.id,
        status: shard.status,
        transport: {
          method: "websocket",
          session_id: shard.sessionId,
          connected_at: shard.connectedAt,
          disconnected_at: shard.disconnectedAt,
        },
      },
    },
  };
}
