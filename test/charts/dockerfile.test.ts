import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { ROOT } from "./helm.js";
import { execForm, lineage, parseCopy, parseDockerfile, stageNamed, type Dockerfile, type Stage } from "./dockerfile.js";

// Docker cannot run here, so charts/Dockerfile is checked statically: its stages, what each
// installs, what reaches the runtime image, the user and the entrypoint.

const DOCKERFILE = join(ROOT, "charts", "Dockerfile");
const IGNORE = join(ROOT, "charts", "Dockerfile.dockerignore");

function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
}

function npmCi(stage: Stage): string[] {
  return runs(stage).filter((r) => /\bnpm ci\b/.test(r));
}

describe("parseDockerfile", () => {
  it("joins continuations, skips comments and reads stages", () => {
    const df = parseDockerfile(
      "ARG A=1\n# c\nFROM x:1 AS one\nRUN a \\\n  # inner\n  && b\nFROM one\nUSER 5\n",
    );
    assert.equal(df.globalArgs.get("A"), "1");
    assert.deepEqual(df.stages.map((s) => [s.base, s.name]), [["x:1", "one"], ["one", undefined]]);
    assert.deepEqual(runs(df.stages[0]!), ["a && b"]);
    assert.deepEqual(lineage(df, df.stages[1]!).map((s) => s.index), [1, 0]);
  });
  it("rejects an instruction before FROM", () => {
    assert.throws(() => parseDockerfile("RUN x\nFROM y\n"), /before the first FROM/);
  });
});

describe("charts/Dockerfile", () => {
  let df: Dockerfile;
  let runtime: Stage;
  before(() => {
    df = parseDockerfile(readFileSync(DOCKERFILE, "utf8"));
    runtime = df.stages[df.stages.length - 1]!;
  });

  it("is multi-stage on the Node LTS that CI tests, ending in a runtime stage", () => {
    assert.ok(df.stages.length >= 2, "multi-stage");
    assert.equal(runtime.name, "runtime");
    const image = df.globalArgs.get("NODE_IMAGE");
    const lts = readFileSync(join(ROOT, ".ci", "node-lts-version"), "utf8").trim().split(".")[0];
    assert.match(lts, /^\d+$/, ".ci/node-lts-version holds a version");
    assert.match(image ?? "", new RegExp(`^node:${lts}[-.]`), "the image is on the LTS .ci/test-lts runs the suite on");
    for (const s of df.stages) {
      if (!stageNamed(df, s.base)) assert.equal(s.base, "${NODE_IMAGE}", `stage ${s.name} base`);
    }
  });

  it("builds with npm ci and npm run build where python3, make and g++ are installed", () => {
    const builders = df.stages.filter((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)));
    assert.equal(builders.length, 1, "one build stage");
    const build = builders[0]!;
    assert.ok(npmCi(build).some((r) => !/--omit=dev/.test(r)), "build stage installs dev dependencies");
    const installs = lineage(df, build).flatMap(runs).join(" ");
    for (const pkg of ["python3", "make", "g++"]) assert.match(installs, new RegExp(`apt-get install[^&]*\\b${pkg.replace("+", "\\+")}`));
  });

  it("puts only production dependencies in the runtime image", () => {
    const chain = lineage(df, runtime);
    assert.equal(chain.length, 1, "runtime starts from the base image, not from a stage with the toolchain");
    assert.deepEqual(npmCi(runtime), [], "no install in the runtime stage");
    assert.doesNotMatch(runs(runtime).join(" "), /apt-get install|g\+\+|python3/);
    const copies = runtime.instructions.filter((i) => i.keyword === "COPY").map(parseCopy);
    const modules = copies.filter((c) => c.sources.some((s) => s.includes("node_modules")));
    assert.equal(modules.length, 1, "node_modules copied once");
    assert.ok(modules[0]!.from, "node_modules come from a stage");
    const depsStage = stageNamed(df, modules[0]!.from!);
    assert.ok(depsStage, `stage ${modules[0]!.from}`);
    const ci = npmCi(depsStage);
    assert.ok(ci.length > 0 && ci.every((r) => /--omit=dev/.test(r)), "that stage runs only npm ci --omit=dev");
    for (const c of copies) {
      assert.ok(c.from !== undefined, `runtime copies only from stages: COPY ${c.sources.join(" ")}`);
      assert.ok(c.sources.every((s) => !/\/(test|bench)\b/.test(s) && !s.endsWith("/dist")), `no tests: ${c.sources}`);
    }
    const dist = copies.filter((c) => c.sources.some((s) => s.includes("/dist/")));
    // Every folder tsc compiles, except tests and benchmarks: the image runs what the checkout runs.
    const tsconfig = JSON.parse(readFileSync(join(ROOT, "tsconfig.json"), "utf8")) as { include: string[] };
    const shipped = tsconfig.include.filter((d) => d !== "test" && d !== "bench").sort();
    assert.deepEqual(dist.map((c) => c.sources[0]).sort(), shipped.map((d) => `/app/dist/${d}`));
    const build = df.stages.find((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)));
    assert.ok(build, "a build stage");
    const sourcesCopied = build.instructions.filter((i) => i.keyword === "COPY").map(parseCopy).map((c) => c.sources[0]);
    for (const d of shipped) assert.ok(sourcesCopied.includes(d), `the build stage copies ${d}/`);
    assert.ok(copies.some((c) => c.sources.includes("/app/package.json")), "package.json (\"type\": \"module\")");
  });

  it("ships journalctl for the journald source: gathered in a stage that installs systemd, checked in the runtime", () => {
    const copies = runtime.instructions.filter((i) => i.keyword === "COPY").map(parseCopy);
    const journal = copies.find((c) => c.sources.includes("/out/") && c.dest === "/");
    assert.ok(journal?.from, "the runtime copies a stage's /out/ to /");
    const stage = stageNamed(df, journal.from)!;
    assert.equal(lineage(df, stage).length, 1, "that stage starts from the base image, as the runtime does (same libraries)");
    const script = runs(stage).join(" ");
    assert.match(script, /ldconfig -p[^&]*> \/tmp\/base-libs && apt-get update && apt-get install -y --no-install-recommends systemd\b/, "the base's libraries are listed before systemd is installed");
    assert.match(script, /BASE=\/tmp\/base-libs OUT=\/out sh \/usr\/local\/bin\/journalctl-files\.sh/);
    assert.ok(stage.instructions.some((i) => i.keyword === "COPY" && parseCopy(i).sources.includes("charts/journalctl-files.sh")), "the script is copied into that stage");
    assert.ok(runs(runtime).some((r) => /^journalctl --version$/.test(r)), "the runtime runs journalctl once, so missing libraries fail the build");
  });

  it("journalctl-files.sh gathers journalctl and the libraries the base lacks (here: this machine's journalctl)", { skip: existsSync("/usr/bin/journalctl") ? false : "no journalctl on this machine" }, () => {
    const dir = mkdtempSync(join(tmpdir(), "daytwo-journalctl-"));
    try {
      const base = join(dir, "base");
      // A base without libsystemd-shared or libcrypto: both must be gathered, nothing the base has.
      const all = execFileSync("ldconfig", ["-p"], { encoding: "utf8" }).split("\n").map((l) => l.split(" => ")[1]?.trim()).filter((p): p is string => p !== undefined && p.startsWith("/"));
      writeFileSync(base, all.filter((p) => !/libcrypto\.so/.test(p)).join("\n") + "\n");
      execFileSync("sh", [join(ROOT, "charts", "journalctl-files.sh")], { env: { ...process.env, BASE: base, OUT: join(dir, "out") } });
      const files = execFileSync("find", [join(dir, "out"), "-type", "f"], { encoding: "utf8" }).trim().split("\n").map((f) => f.slice(join(dir, "out").length)).sort();
      assert.ok(files.includes("/usr/bin/journalctl"), files.join(" "));
      assert.ok(files.some((f) => /\/systemd\/libsystemd-shared-\d+\.so$/.test(f)), `libsystemd-shared: ${files.join(" ")}`);
      assert.ok(files.some((f) => /^\/usr\/lib\/[^/]+\/libcrypto\.so\.3$/.test(f)), `libcrypto under /usr/lib, by its soname: ${files.join(" ")}`);
      assert.equal(files.length, 3, `nothing the base has: ${files.join(" ")}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs as a numeric non-root user", () => {
    const users = runtime.instructions.filter((i) => i.keyword === "USER");
    assert.ok(users.length > 0, "USER set in the runtime stage");
    const user = users[users.length - 1]!.args;
    assert.match(user, /^\d+(:\d+)?$/, "numeric, so runAsNonRoot can check it");
    assert.notEqual(Number(user.split(":")[0]), 0);
    const chartValues = readFileSync(join(ROOT, "charts", "daytwo", "values.yaml"), "utf8");
    assert.match(chartValues, new RegExp(`runAsUser: ${user.split(":")[0]}\\b`), "chart's default user is the image's");
  });

  it("starts node /app/dist/cli/main.js, the package's bin", () => {
    const eps = runtime.instructions.filter((i) => i.keyword === "ENTRYPOINT");
    assert.equal(eps.length, 1);
    assert.deepEqual(execForm(eps[0]!.args), ["node", "/app/dist/cli/main.js"]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { type: string; bin: Record<string, string> };
    assert.equal(`/app/${pkg.bin["logs"]}`, "/app/dist/cli/main.js");
    assert.equal(pkg.type, "module");
    assert.equal(runtime.instructions.filter((i) => i.keyword === "WORKDIR").at(-1)?.args, "/app");
  });

  it("copies only sources that exist and the context filter keeps", () => {
    const ignored = readFileSync(IGNORE, "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    for (const must of ["**/node_modules", "dist", ".git"]) assert.ok(ignored.includes(must), `ignores ${must}`);
    for (const s of df.stages) {
      for (const ins of s.instructions.filter((i) => i.keyword === "COPY" || i.keyword === "ADD")) {
        assert.equal(ins.keyword, "COPY", `line ${ins.line}: use COPY, not ADD`);
        const c = parseCopy(ins);
        if (c.from) {
          assert.ok(stageNamed(df, c.from), `line ${ins.line}: --from=${c.from} is a stage`);
          continue;
        }
        for (const src of c.sources) {
          assert.ok(existsSync(join(ROOT, src)), `line ${ins.line}: ${src} exists in the repo`);
          const top = src.split("/")[0]!;
          assert.ok(!ignored.includes(top) && !ignored.includes(src), `line ${ins.line}: ${src} is not ignored`);
        }
      }
    }
  });
});
