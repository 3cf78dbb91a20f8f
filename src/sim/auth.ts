/**
 * The client-credentials flow of Twitch's OAuth server, and the check of
 * app access tokens on Helix calls, with Twitch's status codes and bodies.
 *
 * @module
 */

/** An answer to send: status and JSON body. */
export interface JsonAnswer {
  status: number;
  body: unknown;
}

/** The tokens a simulator has issued. */
export interface TokenStore {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly ttlSeconds: number;
  /** Token -> expiry in milliseconds. */
  readonly tokens: Map<string, number>;
  issued: number;
  /** The refresh token of the simulated user (EventSub over a plain WebSocket needs a user token). */
  readonly userRefreshToken: string;
  /** Tokens issued by the refresh grant: user access tokens, not app access tokens. */
  readonly userTokens: Set<string>;
}

/** The user id of the simulator's one user. */
export const SIM_USER_ID = "900000001";

/** An empty store for one client. */
export function createTokenStore(
  clientId: string,
  clientSecret: string,
  options: { ttlSeconds: number },
): TokenStore {
  return {
    clientId,
    clientSecret,
    ttlSeconds: options.ttlSeconds,
    tokens: new Map(),
    issued: 0,
    userRefreshToken: newToken(),
    userTokens: new Set(),
  };
}

/** Answers `POST /oauth2/token`: the client-credentials grant, and the refresh grant of the user token. */
export function requestToken(store: TokenStore, params: URLSearchParams, now: number): JsonAnswer {
  const clientId = params.get("client_id") ?? "";
  const secret = params.get("client_secret") ?? "";
  const grant = params.get("grant_type") ?? "";
  if (clientId === "") return oauthError(400, "missing client id");
  if (grant === "") return oauthError(400, "missing grant_type");
  if (grant !== "client_credentials" && grant !== "refresh_token") {
    return oauthError(400, "unsupported grant type");
  }
  if (clientId !== store.clientId) return oauthError(400, "invalid client");
  if (secret !== store.clientSecret) return oauthError(403, "invalid client secret");
  if (grant === "refresh_token" && params.get("refresh_token") !== store.userRefreshToken) {
    return oauthError(400, "Invalid refresh token");
  }
  const token = newToken();
  store.tokens.set(token, now + store.ttlSeconds * 1000);
  if (grant === "refresh_token") store.userTokens.add(token);
  store.issued++;
  const body = { access_token: token, expires_in: store.ttlSeconds, token_type: "bearer" };
  return {
    status: 200,
    body: grant === "refresh_token"
      ? { ...body, refresh_token: store.userRefreshToken, scope: [] }
      : body,
  };
}

/** Answers `GET /oauth2/validate` for an app access token. */
export function validateToken(
  store: TokenStore,
  authorization: string | null,
  now: number,
): JsonAnswer {
  const token = /^(?:OAuth|Bearer) (\S+)$/i.exec(authorization ?? "")?.[1];
  const expiresAt = token === undefined ? undefined : store.tokens.get(token);
  if (expiresAt === undefined || expiresAt <= now) return oauthError(401, "invalid access token");
  return {
    status: 200,
    body: {
      client_id: store.clientId,
      scopes: [],
      expires_in: Math.floor((expiresAt - now) / 1000),
    },
  };
}

/**
 * Checks the `Authorization` and `Client-Id` headers of a Helix call: null when they are
 * good, else the 401 Helix sends.
 */
export function checkHelixAuth(
  store: TokenStore,
  headers: { authorization: string | null; clientId: string | null },
  now: number,
): JsonAnswer | null {
  const token = /^Bearer (\S+)$/i.exec(headers.authorization ?? "")?.[1];
  if (token === undefined) return helixUnauthorized("OAuth token is missing");
  if (!headers.clientId) return helixUnauthorized("Client-Id header required");
  const expiresAt = store.tokens.get(token);
  if (expiresAt === undefined || expiresAt <= now) {
    store.tokens.delete(token);
    return helixUnauthorized("Invalid OAuth token");
  }
  if (headers.clientId !== store.clientId) {
    return helixUnauthorized("Client ID and OAuth token do not match");
  }
  return null;
}

/** Whether the token of an `Authorization` header (checked already) is a user's or the app's. */
export function tokenKind(store: TokenStore, authorization: string | null): "app" | "user" {
  const token = /^Bearer (\S+)$/i.exec(authorization ?? "")?.[1] ?? "";
  return store.userTokens.has(token) ? "user" : "app";
}

/** Makes every token issued so far invalid, as a revocation or password change does. */
export function revokeAll(store: TokenStore): void {
  store.tokens.clear();
  store.userTokens.clear();
}

function oauthError(status: number, message: string): JsonAnswer {
  return { status, body: { status, message } };
}

function helixUnauthorized(message: string): JsonAnswer {
  return { status: 401, body: { error: "Unauthorized", status: 401, message } };
}

/** 30 characters of [a-z0-9], the form of Twitch's tokens. */
function newToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(30));
  let token = "";
  for (const b of bytes) token += alphabet[b % alphabet.length];
  return token;
}
