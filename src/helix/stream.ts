/**
 * Helix's stream object, the one wire type the service, its record contract
 * and the simulator share, and the one limit Twitch puts on a broadcast.
 *
 * @module
 */

/**
 * A stream object as Helix sends it (snake_case, Helix's JSON types). Helix
 * documents `tags` and `tag_ids` as arrays but has sent `null` for both, so
 * readers must allow it; the simulator always sends arrays.
 */
export interface HelixStream {
  id: string;
  user_id: string;
  user_login: string;
  user_name: string;
  game_id: string;
  game_name: string;
  type: string;
  title: string;
  tags: string[] | null;
  viewer_count: number;
  started_at: string;
  language: string;
  thumbnail_url: string;
  tag_ids: string[] | null;
  is_mature: boolean;
  [field: string]: unknown;
}

/** Twitch ends every broadcast after 48 hours at most. */
export const MAX_BROADCAST_MS = 48 * 60 * 60 * 1000;
