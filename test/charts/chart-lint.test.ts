import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { helm, lint, templateRaw } from "./helm.js";

const VALUE_SETS: Record<string, Parameters<typeof lint>[0]> = {
  defaults: {},
  "ci/trial-values.yaml": { valuesFiles: ["ci/trial-values.yaml"] },
  "ci/production-values.yaml": { valuesFiles: ["ci/production-values.yaml"] },
};

describe("helm lint", () => {
  it("runs the pinned helm", () => {
    const r = helm(["version", "--short"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^v\d+\.\d+\.\d+/);
  });

  for (const [name, opts] of Object.entries(VALUE_SETS)) {
    it(`passes --strict with ${name}`, () => {
      const r = lint(opts);
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout, /\[(ERROR|WARNING)\]/);
    });
  }
});

describe("values.schema.json", () => {
  const rejects: [string, Parameters<typeof templateRaw>[0], RegExp][] = [
    ["an unknown top-level key", { set: { replicaCount: 3 } }, /additional properties 'replicaCount' not allowed/],
    ["an unknown nested key", { set: { "forwarder.hostNetwork": true } }, /additional properties 'hostNetwork' not allowed/],
    ["a store kind that does not exist", { set: { "store.kind": "sqlite" } }, /store\/kind/],
    ["a relative log root", { set: { "forwarder.logRoots.pods.path": "var/log/pods" } }, /logRoots\/pods\/path/],
    ["a URL without scheme", { set: { "store.elasticsearch.url": "es:9200" } }, /elasticsearch\/url/],
    ["a port out of range", { set: { "collector.port": 70000 } }, /collector\/port/],
    ["a token with a comma", { set: { "auth.forwarderToken": "a\\,b" } }, /forwarderToken/],
    ["a bad quantity", { set: { "forwarder.resources.limits.memory": "lots" } }, /resources\/limits\/memory/],
  ];
  for (const [what, opts, message] of rejects) {
    it(`rejects ${what}`, () => {
      const r = templateRaw(opts);
      assert.notEqual(r.status, 0, "helm template should have failed");
      assert.match(r.stderr, message);
    });
  }

  it("accepts the defaults", () => {
    const r = templateRaw({});
    assert.equal(r.status, 0, r.stderr);
  });
});
