import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it, type TestContext } from "node:test";
import { ROOT, render, type Manifest, type RenderOptions } from "./helm.js";
import { podSpec, type Container } from "./k8s-access.js";

// The chart configures the process through DAYTWO_* variables and an optional JSON file.
// The process rejects unknown variables at start, so every variable the chart sets must be a
// key of core/config-schema.ts, and the whole environment must load. This test feeds each
// rendered container's environment to the real loadConfig (compiled to dist/core/config.js).

interface ConfigModule {
  loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv }): unknown;
  configKeys(): { env: string }[];
}

async function loadConfigModule(): Promise<ConfigModule | undefined> {
  const file = join(ROOT, "dist", "core", "config.js");
  if (!existsSync(file)) return undefined;
  return (await import(pathToFileURL(file).href)) as ConfigModule;
}

function containersOf(ms: Manifest[]): { where: string; c: Container }[] {
  const out: { where: string; c: Container }[] = [];
  for (const m of ms) {
    if (!["DaemonSet", "Deployment", "StatefulSet"].includes(m.kind)) continue;
    for (const c of podSpec(m).containers) out.push({ where: `${m.kind}/${m.metadata.name}/${c.name}`, c });
  }
  return out;
}

/** The environment a container would see, with stand-ins for downward-API and Secret values. */
function envOf(c: Container): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = "node-a";
    else if (e.valueFrom?.secretKeyRef) env[e.name] = "secret-value";
  }
  return env;
}

async function checkRender(t: TestContext, opts: RenderOptions): Promise<void> {
  const mod = await loadConfigModule();
  if (!mod) {
    t.skip("dist/core/config.js is not built");
    return;
  }
  const ms = render(opts);
  const known = new Set(mod.configKeys().map((k) => k.env));
  const dir = mkdtempSync(join(tmpdir(), "daytwo-chart-config-"));
  try {
    const cm = ms.find((m) => m.kind === "ConfigMap" && m.metadata.name.endsWith("-config"));
    let file: string | undefined;
    if (cm) {
      file = join(dir, "config.json");
      writeFileSync(file, (cm["data"] as Record<string, string>)["config.json"]!);
    }
    const problems: string[] = [];
    for (const { where, c } of containersOf(ms)) {
      const env = envOf(c);
      for (const name of Object.keys(env)) {
        if (name === "DAYTWO_CONFIG" || known.has(name)) continue;
        problems.push(`${where}: ${name} is not a configuration key`);
      }
      if (env["DAYTWO_CONFIG"]) env["DAYTWO_CONFIG"] = file;
      try {
        mod.loadConfig({ env });
      } catch (err) {
        problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("chart ↔ process configuration contract", () => {
  it("default values load in every container", (t) => checkRender(t, {}));
  it("ci/trial-values.yaml loads in every container", (t) => checkRender(t, { valuesFiles: ["ci/trial-values.yaml"] }));
  it("ci/production-values.yaml loads in every container", (t) =>
    checkRender(t, { valuesFiles: ["ci/production-values.yaml"] }));
  it("catches a variable the process does not know", async (t) => {
    if ((await loadConfigModule()) === undefined) return t.skip("dist/core/config.js is not built");
    await assert.rejects(
      checkRender(t, { setJson: { "forwarder.extraEnv": [{ name: "DAYTWO_NO_SUCH_KEY", value: "1" }] } }),
      /DAYTWO_NO_SUCH_KEY/,
    );
  });
});
