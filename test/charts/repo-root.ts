import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository root: the nearest folder above this file whose package.json is daytwo's.
 * Tests run compiled from dist/test/charts/, so a path relative to __dirname would be wrong.
 */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      const name = (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name;
      if (name === "daytwo") return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no daytwo package.json above ${from}`);
    dir = parent;
  }
}
