/**
 * A tiny EventSub WebSocket server for tests: each connection is handed to
 * the test, which sends Twitch-shaped messages and closes at will.
 *
 * @module
 */

/** One client connection as the test sees it. */
export interface TestClient {
  socket: WebSocket;
  /** The request path, e.g. `/ws` or `/ws?reconnect=1`. */
  path: string;
}

/** A running test server. */
export interface TestServer extends AsyncDisposable {
  url: string;
  port: number;
  /** Resolves with the next client that connects. */
  next(): Promise<TestClient>;
  close(): Promise<void>;
}

/** Starts a server on a free local port. */
export function startTestServer(): TestServer {
  const waiting: ((client: TestClient) => void)[] = [];
  const queued: TestClient[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    const url = new URL(request.url);
    const client = { socket, path: url.pathname + url.search };
    socket.onopen = () => {
      const take = waiting.shift();
      if (take) take(client);
      else queued.push(client);
    };
    return response;
  });
  const port = server.addr.port;
  async function close() {
    await server.shutdown();
  }
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    port,
    next() {
      const client = queued.shift();
      if (client) return Promise.resolve(client);
      return new Promise((resolve) => waiting.push(resolve));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A `session_welcome` message. */
export function welcome(sessionId: string, keepaliveSeconds = 10): string {
  return JSON.stringify({
    metadata: {
      message_id: crypto.randomUUID(),
      message_type: "session_welcome",
      message_timestamp: new Date().toISOString(),
    },
    payload: {
      session: {
        id: sessionId,
        status: "connected",
        keepalive_timeout_seconds: keepaliveSeconds,
        reconnect_url: null,
        connected_at: new Date().toISOString(),
      },
    },
  });
}

/** A `session_keepalive` message. */
export function keepalive(): string {
  return JSON.stringify({
    metadata: {
      message_id: crypto.randomUUID(),
      message_type: "session_keepalive",
      message_timestamp: new Date().toISOString(),
    },
    payload: {},
  });
}

/** A `session_reconnect` message pointing at `url`. */
export function reconnect(sessionId: string, url: string): string {
  return JSON.stringify({
    metadata: {
      message_id: crypto.randomUUID(),
      message_type: "session_reconnect",
      message_timestamp: new Date().toISOString(),
    },
    payload: {
      session: {
        id: sessionId,
        status: "reconnecting",
        keepalive_timeout_seconds: null,
        reconnect_url: url,
        connected_at: new Date().toISOString(),
      },
    },
  });
}

/** A stream.online or stream.offline notification, as Twitch (and the Twitch CLI) send it. */
export function notification(
  type: "stream.online" | "stream.offline",
  userId: string,
  options: { messageId?: string; streamId?: string; sentAt?: number; sessionId?: string } = {},
): string {
  const sentAt = new Date(options.sentAt ?? Date.now()).toISOString();
  const event: Record<string, string> = {
    broadcaster_user_id: userId,
    broadcaster_user_login: `user${userId}`,
    broadcaster_user_name: `User${userId}`,
  };
  if (type === "stream.online") {
    Object.assign(event, { id: options.streamId ?? "1", type: "live", started_at: sentAt });
  }
  return JSON.stringify({
    metadata: {
      message_id: options.messageId ?? crypto.randomUUID(),
      message_type: "notification",
      message_timestamp: sentAt,
      subscription_type: type,
      subscription_version: "1",
    },
    payload: {
      subscription: subscriptionObject(type, userId, options.sessionId ?? "s", "enabled"),
      event,
    },
  });
}

/** A `revocation` message. */
export function revocation(type: string, userId: string, status: string): string {
  return JSON.stringify({
    metadata: {
      message_id: crypto.randomUUID(),
      message_type: "revocation",
      message_timestamp: new Date().toISOString(),
      subscription_type: type,
      subscription_version: "1",
    },
    payload: { subscription: subscriptionObject(type, userId, "s", status) },
  });
}

function subscriptionObject(type: string, userId: string, sessionId: string, status: string) {
  return {
    id: crypto.randomUUID(),
    status,
    type,
    version: "1",
    condition: { broadcaster_user_id: userId },
    transport: { method: "websocket", session_id: sessionId },
    created_at: new Date().toISOString(),
    cost: 0,
  };
}
