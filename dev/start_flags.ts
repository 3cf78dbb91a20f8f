/**
 * The runtime flags of `deno task start` (permission set, V8 flags), read
 * from deno.json, so that tests and the demo run the service exactly as
 * users and the compiled binary do.
 *
 * @module
 */

/** Reads the flags between `deno run` and `main.ts` in the start task of `denoJson`. */
export async function startFlags(denoJson: string | URL): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(denoJson));
  const words: string[] = config.tasks.start.split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "main.ts") {
    throw new Error(`the start task is not "deno run ... main.ts": ${config.tasks.start}`);
  }
  return words.slice(2, -1);
}
