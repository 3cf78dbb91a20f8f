/**
 * EventSub WebSocket messages as Twitch sends them (session_welcome,
 * session_keepalive, notification, session_reconnect, revocation), parsed
 * into plain data. Anything else is reported as unknown, never thrown:
 * one odd message must not end a connection.
 *
 * @module
 */

/** The two events the watchlist follows. */
export const WATCHED_EVENTS = ["stream.online", "stream.offline"] as const;

/** One of {@link WATCHED_EVENTS}. */
export type WatchedEvent = typeof WATCHED_EVENTS[number];

/** A subscription as Twitch describes it in notifications and revocations. */
export interface Subscription {
  id: string;
  type: string;
  status: string;
  condition: Record<string, string>;
}

/** A parsed message. */
export type EventSubMessage =
  | { kind: "welcome"; id: string; sessionId: string; keepaliveMs: number }
  | { kind: "keepalive"; id: string }
  | {
    kind: "notification";
    id: string;
    /** `message_timestamp` in milliseconds since the epoch. */
    sentAt: number;
    type: string;
    subscription: Subscription;
    event: Record<string, unknown>;
  }
  | { kind: "reconnect"; id: string; reconnectUrl: string }
  | { kind: "revocation"; id: string; subscription: Subscription }
  | { kind: "unknown"; reason: string };

type Json = Record<string, unknown>;

function object(value: unknown): Json | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Json
    : null;
}

function subscriptionOf(value: unknown): Subscription | null {
  const s = object(value);
  if (s === null || typeof s.id !== "string" || typeof s.type !== "string") return null;
  const condition: Record<string, string> = {};
  for (const [k, v] of Object.entries(object(s.condition) ?? {})) {
    if (typeof v === "string") condition[k] = v;
  }
  return { id: s.id, type: s.type, status: String(s.status ?? ""), condition };
}

/** Parses one text frame. */
export function parseMessage(text: string): EventSubMessage {
  let root: Json | null;
  try {
    root = object(JSON.parse(text));
  } catch {
    return { kind: "unknown", reason: "not JSON" };
  }
  const metadata = object(root?.metadata);
  const payload = object(root?.payload);
  if (metadata === null || payload === null) return { kind: "unknown", reason: "no metadata" };
  const id = String(metadata.message_id ?? "");
  const type = metadata.message_type;
  const session = object(payload.session);
  switch (type) {
    case "session_welcome": {
      const keepalive = Number(session?.keepalive_timeout_seconds);
      if (typeof session?.id !== "string" || !Number.isFinite(keepalive) || keepalive <= 0) {
        return { kind: "unknown", reason: "session_welcome without a session" };
      }
      return { kind: "welcome", id, sessionId: session.id, keepaliveMs: keepalive * 1000 };
    }
    case "session_keepalive":
      return { kind: "keepalive", id };
    case "session_reconnect": {
      if (typeof session?.reconnect_url !== "string") {
        return { kind: "unknown", reason: "session_reconnect without reconnect_url" };
      }
      return { kind: "reconnect", id, reconnectUrl: session.reconnect_url };
    }
    case "notification": {
      const subscription = subscriptionOf(payload.subscription);
      const event = object(payload.event);
      if (subscription === null || event === null) {
        return { kind: "unknown", reason: "notification without subscription or event" };
      }
      const sentAt = Date.parse(String(metadata.message_timestamp ?? ""));
      return {
        kind: "notification",
        id,
        sentAt: Number.isFinite(sentAt) ? sentAt : NaN,
        type: String(metadata.subscription_type ?? subscription.type),
        subscription,
        event,
      };
    }
    case "revocation": {
      const subscription = subscriptionOf(payload.subscription);
      if (subscription === null) {
        return { kind: "unknown", reason: "revocation without subscription" };
      }
      return { kind: "revocation", id, subscription };
    }
    default:
      return { kind: "unknown", reason: `message_type ${String(type)}` };
  }
}

/** A watched event, as the service acts on it. */
export interface StreamEvent {
  type: WatchedEvent;
  userId: string;
  userLogin: string;
  /** The stream id (stream.online only). */
  streamId?: string;
  /** When Twitch sent it, in milliseconds since the epoch (NaN when it did not say). */
  sentAt: number;
  /** When it arrived here, in milliseconds since the epoch. */
  receivedAt: number;
}

/** The watched event a notification carries, or null for any other subscription type. */
export function streamEvent(
  message: Extract<EventSubMessage, { kind: "notification" }>,
  receivedAt: number,
): StreamEvent | null {
  if (!(WATCHED_EVENTS as readonly string[]).includes(message.type)) return null;
  const userId = message.event.broadcaster_user_id;
  if (typeof userId !== "string" || userId === "") return null;
  const streamId = message.event.id;
  return {
    type: message.type as WatchedEvent,
    userId,
    userLogin: String(message.event.broadcaster_user_login ?? ""),
    ...(message.type === "stream.online" && typeof streamId === "string" ? { streamId } : {}),
    sentAt: message.sentAt,
    receivedAt,
  };
}
