/**
 * Titles that attack whatever shows them (`SIM_HOSTILE_TITLES=1`): markup
 * that runs script if it is ever parsed as HTML, text-direction overrides,
 * characters outside the Basic Multilingual Plane, and titles far longer
 * than Twitch allows. Twitch passes titles through as their streamers typed
 * them, so a page and a record must hold these exactly as text.
 *
 * @module
 */

/** Every fourth stream of a hostile world has one of these titles. */
export const HOSTILE_EVERY = 4;

/** The hostile titles, in the order streams get them. */
export const HOSTILE_TITLES: readonly string[] = [
  `<script>document.title="pwned";alert(1)</script>`,
  `<img src=x onerror="document.title='pwned';alert(1)">`,
  `"><svg onload=alert(document.domain)>`,
  `</td></tr></table><h1 style="color:red">broken layout</h1>`,
  `javascript:alert(1)`,
  `\u202Egnp.exe evil text that reads backwards`,
  `\u{1F3AE}\u{1F525} 4-byte emoji \u{1D54F} and a family \u{1F468}\u200D\u{1F469}\u200D\u{1F467} \u{1F3F3}\uFE0F\u200D\u{1F308}`,
  `&lt;b&gt;already escaped&lt;/b&gt; &amp; {{constructor.constructor('alert(1)')()}}`,
  `a very long title ${"\u{1F3AE} speedrun any% no major glitches ".repeat(120)}`,
];

/** The hostile title of stream `index`, or null when it keeps its ordinary one. */
export function hostileTitle(index: number): string | null {
  if (index % HOSTILE_EVERY !== 0) return null;
  return HOSTILE_TITLES[(index / HOSTILE_EVERY) % HOSTILE_TITLES.length];
}
