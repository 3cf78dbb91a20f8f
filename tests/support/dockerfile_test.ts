import assert from "node:assert/strict";
import {
  declaredNames,
  execForm,
  healthcheckCommand,
  isPinnedImage,
  parseDockerfile,
  parseImageRef,
} from "./dockerfile.ts";

const twoStages = `# syntax=docker/dockerfile:1
ARG BASE=debian:12.5
FROM \${BASE} AS build
WORKDIR /src
RUN apt-get update \\
  # a comment inside a continuation
  && apt-get install -y make

FROM --platform=linux/amd64 gcr.io/distroless/static:nonroot
USER nonroot
CMD ["/app"]
`;

Deno.test("parseDockerfile splits instructions into stages after global ARGs", () => {
  const parsed = parseDockerfile(twoStages);
  assert.deepEqual(parsed.globalArgs, [{ keyword: "ARG", args: "BASE=debian:12.5", line: 2 }]);
  assert.deepEqual(parsed.stages.map((stage) => [stage.base, stage.name]), [
    ["debian:12.5", "build"],
    ["gcr.io/distroless/static:nonroot", undefined],
  ]);
});

Deno.test("parseDockerfile joins continuation lines and drops comments inside them", () => {
  const [build] = parseDockerfile(twoStages).stages;
  assert.deepEqual(build.instructions, [
    { keyword: "WORKDIR", args: "/src", line: 4 },
    { keyword: "RUN", args: "apt-get update && apt-get install -y make", line: 5 },
  ]);
});

Deno.test("parseDockerfile upper-cases keywords written in lower case", () => {
  const [stage] = parseDockerfile("from alpine:3.20\nrun echo hi\n").stages;
  assert.deepEqual(stage.instructions, [{ keyword: "RUN", args: "echo hi", line: 2 }]);
});

Deno.test("parseDockerfile rejects an instruction other than ARG before the first FROM", () => {
  assert.throws(() => parseDockerfile("RUN true\nFROM alpine:3.20\n"), {
    message: "line 1: RUN before the first FROM",
  });
});

Deno.test("parseImageRef separates repository, tag and digest", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  assert.deepEqual(parseImageRef(`denoland/deno:2.9.6@${digest}`), {
    repository: "denoland/deno",
    tag: "2.9.6",
    digest,
  });
});

Deno.test("parseImageRef does not mistake a registry port for a tag", () => {
  assert.deepEqual(parseImageRef("localhost:5000/team/app"), {
    repository: "localhost:5000/team/app",
  });
});

Deno.test("isPinnedImage accepts a version tag or a sha256 digest", () => {
  assert.equal(isPinnedImage("apache/kafka:4.1.1"), true);
  assert.equal(isPinnedImage(`alpine@sha256:${"0".repeat(64)}`), true);
});

Deno.test("isPinnedImage rejects a missing tag, latest, and a malformed digest", () => {
  assert.equal(isPinnedImage("alpine"), false);
  assert.equal(isPinnedImage("alpine:latest"), false);
  assert.equal(isPinnedImage("alpine@sha256:abc"), false);
});

Deno.test("execForm returns the JSON list of an exec-form instruction", () => {
  assert.deepEqual(execForm('["/app/run", "--flag"]'), ["/app/run", "--flag"]);
});

Deno.test("execForm returns undefined for the shell form", () => {
  assert.equal(execForm("/app/run --flag"), undefined);
});

Deno.test("healthcheckCommand skips options and returns the exec-form command", () => {
  assert.deepEqual(
    healthcheckCommand('--interval=30s --timeout=5s CMD ["/app/bin", "--healthcheck"]'),
    ["/app/bin", "--healthcheck"],
  );
});

Deno.test("healthcheckCommand returns a shell-form command as a string", () => {
  assert.equal(healthcheckCommand("CMD curl -f http://localhost/"), "curl -f http://localhost/");
});

Deno.test("healthcheckCommand returns undefined for HEALTHCHECK NONE", () => {
  assert.equal(healthcheckCommand("NONE"), undefined);
});

Deno.test("declaredNames lists every variable of a multi-pair ENV", () => {
  const names = declaredNames({
    keyword: "ENV",
    args: 'A=1 B="two words" C=three\\ words',
    line: 1,
  });
  assert.deepEqual(names, ["A", "B", "C"]);
});

Deno.test("declaredNames reads the legacy one-variable ENV form and ARG", () => {
  assert.deepEqual(declaredNames({ keyword: "ENV", args: "API_TOKEN abc def", line: 1 }), [
    "API_TOKEN",
  ]);
  assert.deepEqual(declaredNames({ keyword: "ARG", args: "VERSION=1", line: 1 }), ["VERSION"]);
});
