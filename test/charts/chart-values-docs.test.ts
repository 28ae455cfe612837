import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isMap, isPair, isScalar, parseDocument, type Pair, type YAMLMap } from "yaml";
import { CHART } from "./helm.js";

// values.yaml is the chart's reference: every key carries a comment, on itself or on the
// block it belongs to, and values.schema.json knows every key values.yaml has.

function undocumented(map: YAMLMap, path: string[], documented: boolean, out: string[]): void {
  map.items.forEach((item, index) => {
    if (!isPair(item)) return;
    const pair = item as Pair;
    const key = isScalar(pair.key) ? String(pair.key.value) : "?";
    const here = [...path, key];
    const keyNode = pair.key as { commentBefore?: string | null } | null;
    // The parser hangs the comment above a block's first key on the block itself.
    const hasComment =
      Boolean(keyNode?.commentBefore) || (index === 0 && Boolean((map as { commentBefore?: string | null }).commentBefore));
    const value = pair.value;
    if (isMap(value) && value.items.length > 0) {
      // A block's own comment documents what is inside it.
      undocumented(value, here, documented || hasComment, out);
    } else if (!hasComment && !documented) {
      out.push(here.join("."));
    }
  });
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  $ref?: string;
}

describe("values.yaml", () => {
  const text = readFileSync(join(CHART, "values.yaml"), "utf8");
  const doc = parseDocument(text);

  it("has a comment on every value", () => {
    assert.deepEqual(doc.errors, []);
    const missing: string[] = [];
    // The first key's comment is the document's leading comment; check from the top map.
    const root = doc.contents as YAMLMap;
    undocumented(root, [], false, missing);
    assert.deepEqual(missing, []);
  });

  it("only has keys that values.schema.json declares", () => {
    const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8")) as SchemaNode & {
      definitions: Record<string, SchemaNode>;
    };
    const resolve = (n: SchemaNode): SchemaNode =>
      n.$ref ? resolve(schema.definitions[n.$ref.replace("#/definitions/", "")]!) : n;
    const undeclared: string[] = [];
    const walk = (value: unknown, node: SchemaNode, path: string[]) => {
      node = resolve(node);
      if (typeof value !== "object" || value === null || Array.isArray(value) || !node.properties) return;
      for (const [k, v] of Object.entries(value)) {
        const child = node.properties[k];
        if (!child) {
          if (node.additionalProperties === false) undeclared.push([...path, k].join("."));
          continue;
        }
        walk(v, child, [...path, k]);
      }
    };
    walk(doc.toJS(), schema, []);
    assert.deepEqual(undeclared, []);
    assert.equal(schema.additionalProperties, false, "unknown top-level keys are rejected");
  });
});
