/**
 * The status page over HTTP: `/` (the page), `/app.js`, `/app.css` and
 * `/status.json`. The page is three static files with no build step; the
 * headers forbid inline script, other origins, framing and sniffing, so that
 * a stranger's stream title can only ever be text.
 *
 * @module
 */

import PAGE from "./status_page.html" with { type: "text" };
import SCRIPT from "./status_page.js" with { type: "text" };
import STYLE from "./status_page.css" with { type: "text" };
import type { StatusDocument } from "./status.ts";

/** What the page may load: its own script, style and JSON, nothing inline, nothing from elsewhere. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const ASSETS: Record<string, { body: string; type: string }> = {
  "/": { body: PAGE, type: "text/html; charset=utf-8" },
  "/app.js": { body: SCRIPT, type: "text/javascript; charset=utf-8" },
  "/app.css": { body: STYLE, type: "text/css; charset=utf-8" },
};

/** The answer to `pathname` if it is one of the page's, else null. */
export function statusResponse(
  pathname: string,
  snapshot: () => StatusDocument,
): Response | null {
  if (pathname === "/status.json") {
    return new Response(JSON.stringify(snapshot()), {
      headers: { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8" },
    });
  }
  const asset = ASSETS[pathname];
  if (asset === undefined) return null;
  return new Response(asset.body, { headers: { ...SECURITY_HEADERS, "content-type": asset.type } });
}
