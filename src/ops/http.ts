/**
 * The operations endpoint: `/healthz` (the process can go on), `/readyz`
 * (ready to serve its purpose), `/metrics` (Prometheus text format) and the
 * status page (`/`, `/status.json`).
 *
 * @module
 */

import type { Readiness } from "./readiness.ts";
import type { Metrics } from "./metrics.ts";
import type { StatusDocument } from "./status.ts";
import { statusResponse } from "./status_http.ts";

/** Whether the process can go on; `ok: false` makes `/healthz` answer 503. */
export interface Health {
  ok: boolean;
  reason: string;
}

/** What the endpoint serves. */
export interface OpsHandlers {
  readiness: () => Readiness;
  /** Liveness (default: always ok). */
  health?: () => Health;
  metrics: Metrics;
  /** The status page's document (absent: no page). */
  status?: { snapshot(): StatusDocument };
}

/** Answers one request. */
export async function handleOps(request: Request, handlers: OpsHandlers): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  switch (pathname) {
    case "/healthz": {
      const health = handlers.health?.() ?? { ok: true, reason: "ok" };
      return new Response(`${health.reason}\n`, {
        status: health.ok ? 200 : 503,
        headers: { "content-type": "text/plain" },
      });
    }
    case "/readyz": {
      const verdict = handlers.readiness();
      return new Response(`${verdict.reason}\n`, {
        status: verdict.ready ? 200 : 503,
        headers: { "content-type": "text/plain" },
      });
    }
    case "/metrics":
      return new Response(await handlers.metrics.registry.metrics(), {
        headers: { "content-type": handlers.metrics.registry.contentType },
      });
    default: {
      const status = handlers.status;
      const page = status === undefined ? null : statusResponse(pathname, () => status.snapshot());
      return page ?? new Response("not found\n", { status: 404 });
    }
  }
}

/** Serves the endpoint until `signal` aborts. */
export function serveOps(
  options: { host: string; port: number; signal: AbortSignal },
  handlers: OpsHandlers,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: options.host,
    port: options.port,
    signal: options.signal,
    onListen: () => {},
  }, (request) => handleOps(request, handlers));
}

/**
 * Probes `/healthz` of a running instance (`--healthcheck`, for containers
 * without a shell or curl). Resolves to the process exit code.
 */
export async function probeHealth(
  options: { host: string; port: number; timeoutMs?: number },
): Promise<number> {
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  try {
    const response = await fetch(
      `http://${host.includes(":") ? `[${host}]` : host}:${options.port}/healthz`,
      {
        signal: AbortSignal.timeout(options.timeoutMs ?? 3000),
      },
    );
    await response.body?.cancel();
    return response.ok ? 0 : 1;
  } catch {
    return 1;
  }
}
