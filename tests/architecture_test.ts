/**
 * The layout's rules, checked on the real module graph (`deno info --json`):
 * the binary ships only `main.ts` and `src/`, `src/` imports nothing outside
 * itself, and its folders import each other as the README's Architecture
 * table allows, without cycles.
 */

import assert from "node:assert/strict";
import { VERSION } from "../src/version.ts";

const root = new URL("../", import.meta.url);

interface ModuleGraph {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
  }[];
}

/** The module graph of `entry`, resolved with the project's import map. */
async function moduleGraph(entry: string): Promise<ModuleGraph> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", new URL("deno.json", root).pathname, entry],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

/** A local module's path relative to the repository, or undefined for npm:, node: and remote ones. */
function localPath(specifier: string): string | undefined {
  return specifier.startsWith(root.href) ? specifier.slice(root.href.length) : undefined;
}

/** Local import edges [from, to] of a graph, as repository paths. */
function localEdges(graph: ModuleGraph): [string, string][] {
  const edges: [string, string][] = [];
  for (const module of graph.modules) {
    const from = localPath(module.specifier);
    if (from === undefined) continue;
    for (const dependency of module.dependencies ?? []) {
      for (const resolved of [dependency.code?.specifier, dependency.type?.specifier]) {
        const to = resolved === undefined ? undefined : localPath(resolved);
        if (to !== undefined) edges.push([from, to]);
      }
    }
  }
  return edges;
}

/** Every TypeScript file under `src/`, as repository paths. */
async function sourceFiles(dir = "src"): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(`${dir}/`, root))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (path.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

/** The graph of every module under `src/`, tests included, through one generated entry. */
async function sourceGraph(): Promise<ModuleGraph> {
  const entry = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    const files = await sourceFiles();
    await Deno.writeTextFile(
      entry,
      files.map((path) => `import "${new URL(path, root).href}";\n`).join(""),
    );
    return await moduleGraph(entry);
  } finally {
    await Deno.remove(entry);
  }
}

/** The unit a module belongs to in the Architecture table: `src/scan/`, or `src/version.ts`. */
function unitOf(path: string): string {
  const parts = path.split("/");
  return parts.length > 2 ? `${parts[0]}/${parts[1]}/` : path;
}

/** Tests and test helpers may reach across folders; shipped modules may not. */
function isTestCode(path: string): boolean {
  const name = path.split("/").at(-1)!;
  return name.endsWith("_test.ts") || name.startsWith("_") || path.includes("/testdata/");
}

/** The README's Architecture table: which unit may import which. */
async function allowedImports(): Promise<Map<string, string[]>> {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const section = readme.slice(readme.indexOf("## Architecture"), readme.indexOf("## Development"));
  const allowed = new Map<string, string[]>();
  for (const [, unit, targets] of section.matchAll(/^\| `(src\/[^`]+)` +\| (.+?) +\|$/gm)) {
    allowed.set(unit, [...targets.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
  }
  return allowed;
}

/** A cycle of `graph`, as the units along it, or undefined when there is none. */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  function visit(unit: string): string[] | undefined {
    if (state.get(unit) === "done") return undefined;
    if (state.get(unit) === "open") return [...path.slice(path.indexOf(unit)), unit];
    state.set(unit, "open");
    path.push(unit);
    for (const next of graph.get(unit) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(unit, "done");
    return undefined;
  }
  for (const unit of graph.keys()) {
    const cycle = visit(unit);
    if (cycle) return cycle;
  }
  return undefined;
}

Deno.test("the shipped module graph holds only main.ts and modules under src/", async () => {
  const graph = await moduleGraph("main.ts");
  const local = graph.modules.map((m) => localPath(m.specifier)).filter((p) => p !== undefined);
  assert.ok(local.includes("src/service/mod.ts"));
  assert.deepEqual(local.filter((path) => path !== "main.ts" && !path.startsWith("src/")), []);
});

Deno.test("no module under src/ imports a local file outside src/", async () => {
  const edges = localEdges(await sourceGraph());
  assert.ok(edges.length > 100, `only ${edges.length} edges`);
  const outside = edges.filter(([from, to]) => from.startsWith("src/") && !to.startsWith("src/"));
  assert.deepEqual(outside, []);
});

Deno.test("src/ imports across folders only as the README's Architecture table allows", async () => {
  const allowed = await allowedImports();
  assert.ok(allowed.size >= 10, `the table has ${allowed.size} rows`);
  const forbidden = localEdges(await sourceGraph())
    .filter(([from]) => from.startsWith("src/") && !isTestCode(from))
    .filter(([from, to]) => unitOf(from) !== unitOf(to))
    .filter(([from, to]) => !(allowed.get(unitOf(from)) ?? []).includes(unitOf(to)))
    .map(([from, to]) => `${from} -> ${to}`);
  assert.deepEqual(forbidden, []);
});

Deno.test("the Architecture table's imports form no cycle", async () => {
  assert.equal(findCycle(await allowedImports()), undefined);
});

Deno.test("a cycle between folders is found", () => {
  const graph = new Map([["a/", ["b/"]], ["b/", ["c/"]], ["c/", ["a/"]]]);
  assert.deepEqual(findCycle(graph), ["a/", "b/", "c/", "a/"]);
  assert.equal(findCycle(new Map([["a/", ["b/"]], ["b/", []]])), undefined);
});

Deno.test("the simulator imports nothing from the service's configuration", async () => {
  const edges = localEdges(await sourceGraph())
    .filter(([from, to]) => from.startsWith("src/sim/") && to.startsWith("src/config/"));
  assert.deepEqual(edges, []);
});

Deno.test("--version's constant equals deno.json's version", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  assert.equal(VERSION, config.version);
});
