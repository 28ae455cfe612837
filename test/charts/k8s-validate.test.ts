import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Manifest } from "./helm.js";
import { typecheckManifests, validateWithModels } from "./k8s-validate.js";

// The validator must be able to say no, or the chart tests prove nothing.

const goodPod = (): Manifest => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p" },
  spec: { containers: [{ name: "c", image: "i", securityContext: { readOnlyRootFilesystem: true } }] },
});

describe("kubernetes manifest validation", () => {
  it("accepts a valid pod in both passes", async () => {
    assert.deepEqual(await validateWithModels([goodPod()]), []);
    assert.deepEqual(typecheckManifests([goodPod()]), []);
  });

  it("rejects a missing required field and a wrong type (schema pass)", async () => {
    const noName = goodPod() as { spec: { containers: Record<string, unknown>[] } } & Manifest;
    delete noName.spec.containers[0]!["name"];
    const badPort = goodPod() as { spec: { containers: Record<string, unknown>[] } } & Manifest;
    badPort.spec.containers[0]!["ports"] = [{ containerPort: "http" }];
    const problems = await validateWithModels([noName, badPort]);
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0]!, /name/);
    assert.match(problems[1]!, /containerPort/);
  });

  it("rejects a misspelt field (strict pass)", () => {
    const typo = goodPod() as { spec: { containers: Record<string, unknown>[] } } & Manifest;
    typo.spec.containers[0]!["securityContext"] = { readOnlyRootFileSystem: true };
    const problems = typecheckManifests([goodPod(), typo]);
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0]!, /^Pod\/p: .*readOnlyRootFileSystem/s);
  });

  it("rejects an unknown kind", async () => {
    const problems = await validateWithModels([{ apiVersion: "v1", kind: "Podd", metadata: { name: "x" } }]);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /no Kubernetes schema/);
  });
});
