/**
 * The service's version, as `--version` prints it. Kept here rather than
 * read from `deno.json` so that the shipped module graph holds only `main.ts`
 * and `src/`; a test checks that the two agree.
 *
 * @module
 */

/** The version of this release; equal to `version` in `deno.json`. */
export const VERSION = "0.1.0";
