import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import type { Manifest } from "./helm.js";
import { ROOT } from "./helm.js";

/**
 * Validation of rendered manifests against the Kubernetes API schemas, in two passes:
 *
 * 1. kubernetes-models' validators, generated from the Kubernetes OpenAPI spec: required
 *    fields, types, formats and enums of every nested object.
 * 2. The same package's TypeScript interfaces, with the TypeScript compiler's excess-property
 *    check: the OpenAPI schemas allow unknown fields (the API server drops them silently),
 *    so a misspelt field such as `readOnlyRootFileSystem` passes pass 1 and is caught here.
 */

interface ModelSource {
  module: string;
  exportName: string;
}

/** Where the model of an apiVersion/kind lives; group "" is the core API. */
function modelSource(apiVersion: string, kind: string): ModelSource {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return { module: `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`, exportName: kind };
  }
  return { module: `kubernetes-models/${apiVersion}/${kind}`, exportName: kind };
}

type ModelClass = new (data: unknown) => { validate(): void };

async function loadModel(apiVersion: string, kind: string): Promise<ModelClass> {
  const src = modelSource(apiVersion, kind);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(src.module)) as Record<string, unknown>;
  } catch {
    throw new Error(`no Kubernetes schema for ${apiVersion} ${kind} (looked for ${src.module})`);
  }
  const cls = mod[src.exportName];
  if (typeof cls !== "function") throw new Error(`${src.module} exports no ${src.exportName}`);
  return cls as ModelClass;
}

function label(m: Manifest): string {
  return `${m.kind}/${m.metadata?.name ?? "?"}`;
}

/** Pass 1: returns one message per invalid manifest (empty when all are valid). */
export async function validateWithModels(manifests: Manifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const m of manifests) {
    if (typeof m.apiVersion !== "string" || typeof m.kind !== "string") {
      problems.push(`${label(m)}: no apiVersion/kind`);
      continue;
    }
    try {
      const Model = await loadModel(m.apiVersion, m.kind);
      new Model(m).validate();
    } catch (err) {
      problems.push(`${label(m)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}

/** Pass 2: type-checks every manifest as an object literal of its interface. */
export function typecheckManifests(manifests: Manifest[]): string[] {
  // The file sits under node_modules/.cache so its imports resolve to the repo's packages.
  const dir = join(ROOT, "node_modules", ".cache", "daytwo", `typecheck-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  try {
    const lines: string[] = [];
    const owner: { line: number; name: string }[] = [];
    manifests.forEach((m, i) => {
      const src = modelSource(m.apiVersion, m.kind);
      lines.push(`import type { I${src.exportName} as T${i} } from ${JSON.stringify(src.module)};`);
    });
    manifests.forEach((m, i) => {
      owner.push({ line: lines.length, name: label(m) });
      // One property per line so a diagnostic's line says which field is wrong.
      lines.push(...`export const m${i}: T${i} = ${JSON.stringify(m, null, 1)};`.split("\n"));
    });
    const file = join(dir, "manifests.mts");
    writeFileSync(file, lines.join("\n"));
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      skipLibCheck: true,
      types: [],
    });
    const problems: string[] = [];
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      if (d.file && d.start !== undefined) {
        const { line } = d.file.getLineAndCharacterOfPosition(d.start);
        const o = [...owner].reverse().find((x) => x.line <= line);
        const near = lines[line]?.trim() ?? "";
        problems.push(`${o ? o.name : "imports"}: ${text} (at ${near})`);
      } else {
        problems.push(text);
      }
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Both passes; resolves to every problem found. */
export async function validateManifests(manifests: Manifest[]): Promise<string[]> {
  return [...(await validateWithModels(manifests)), ...typecheckManifests(manifests)];
}
