#!/usr/bin/env node
// Puts a helm binary in the machine's daytwo cache and prints its path.
//
// Debian ships no helm package, and nothing may be downloaded outside the package
// registries. helm is a Go program, so it comes from the Go module proxy: `go install
// helm.sh/helm/v4/cmd/helm@VERSION` builds it once (a few minutes; the Go toolchain is on the
// CI machines) into `<cache>/helm-VERSION/helm`, and every later run reuses it. The cache is
// outside the checkout (CI clones afresh for each run): $DAYTWO_CACHE, else
// $XDG_CACHE_HOME/daytwo, else ~/.cache/daytwo. $DAYTWO_HELM names another helm to use instead.
// Usage: `node charts/tools/ensure-helm.mjs` → prints the absolute path.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The helm the chart tests run; a new version here is built on the next run. */
export const HELM_VERSION = "v4.3.1";
const MODULE = "helm.sh/helm/v4";

export function cacheDir() {
  if (process.env.DAYTWO_CACHE) return resolve(process.env.DAYTWO_CACHE);
  const base = process.env.XDG_CACHE_HOME ? resolve(process.env.XDG_CACHE_HOME) : join(homedir(), ".cache");
  return join(base, "daytwo");
}

/** Whether `bin` runs and says it is HELM_VERSION. */
function isVersion(bin) {
  try {
    return execFileSync(bin, ["version", "--short"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).startsWith(HELM_VERSION);
  } catch {
    return false; // absent, not executable or half written: build it again
  }
}

export function ensureHelm() {
  if (process.env.DAYTWO_HELM) return resolve(process.env.DAYTWO_HELM);
  const dir = join(cacheDir(), `helm-${HELM_VERSION}`);
  const target = join(dir, "helm");
  if (existsSync(target) && isVersion(target)) return target;

  // Build into a folder of its own and rename, so a concurrent run never sees half a binary.
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  process.stderr.write(`ensure-helm: building helm ${HELM_VERSION} from the Go module proxy into ${dir} (once; a few minutes)\n`);
  try {
    execFileSync("go", ["install", "-trimpath", "-ldflags", `-X ${MODULE}/internal/version.version=${HELM_VERSION}`, `${MODULE}/cmd/helm@${HELM_VERSION}`], {
      env: { ...process.env, GOBIN: tmp },
      stdio: ["ignore", "inherit", "inherit"],
    });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const why = err.code === "ENOENT" ? "go is not installed (it builds helm)" : `go install failed (${err.status ?? err.message})`;
    throw new Error(`${why}; or set DAYTWO_HELM to a helm ${HELM_VERSION} binary`);
  }
  if (!isVersion(join(tmp, "helm"))) throw new Error(`the helm built in ${tmp} does not report ${HELM_VERSION}`);
  rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch (err) {
    // Another run built it meanwhile: use theirs.
    rmSync(tmp, { recursive: true, force: true });
    if (!isVersion(target)) throw err;
  }
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
