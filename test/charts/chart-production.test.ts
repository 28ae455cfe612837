import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { one, RELEASE, render, type Manifest } from "./helm.js";
import { validateManifests } from "./k8s-validate.js";
import { container, env, envValue, mount, podSpec, spec, volume } from "./k8s-access.js";

// ci/production-values.yaml: Elasticsearch over TLS with a private CA, credentials and tokens
// from existing Secrets, an existing PriorityClass, fixed collector replicas.

const P = `${RELEASE}-daytwo`;

describe("chart with existing Secrets (ci/production-values.yaml)", () => {
  let ms: Manifest[];
  before(() => {
    ms = render({ valuesFiles: ["ci/production-values.yaml"] });
  });

  it("renders manifests valid against the Kubernetes schemas", async () => {
    assert.deepEqual(await validateManifests(ms), []);
  });

  it("renders no Secret of its own", () => {
    assert.deepEqual(ms.filter((m) => m.kind === "Secret"), []);
  });

  it("wires tokens from the existing token Secret", () => {
    const ref = (w: Manifest, name: string) => env(container(w), name)?.valueFrom?.secretKeyRef;
    assert.deepEqual(ref(one(ms, "DaemonSet"), "DAYTWO_FORWARDER_TOKEN"), { name: "daytwo-tokens", key: "forwarder-token" });
    assert.deepEqual(ref(one(ms, "Deployment", "-collector"), "DAYTWO_COLLECTOR_TOKENS"), {
      name: "daytwo-tokens",
      key: "collector-tokens",
    });
    assert.deepEqual(ref(one(ms, "Deployment", "-query"), "DAYTWO_QUERY_TOKENS"), {
      name: "daytwo-tokens",
      key: "query-tokens",
    });
  });

  for (const role of ["collector", "query"]) {
    it(`gives the ${role} the Elasticsearch credentials and CA`, () => {
      const d = one(ms, "Deployment", `-${role}`);
      const c = container(d);
      assert.equal(envValue(c, "DAYTWO_STORE_ELASTICSEARCH_URL"), "https://es.example.internal:9200");
      assert.equal(envValue(c, "DAYTWO_STORE_ELASTICSEARCH_DATA_STREAM"), "logs-daytwo-prod");
      const keys = Object.fromEntries(
        ["USERNAME", "PASSWORD", "API_KEY"].map((k) => [k, env(c, `DAYTWO_STORE_ELASTICSEARCH_${k}`)?.valueFrom?.secretKeyRef]),
      );
      assert.deepEqual(keys, {
        USERNAME: { name: "es-creds", key: "user", optional: true },
        PASSWORD: { name: "es-creds", key: "pass", optional: true },
        API_KEY: { name: "es-creds", key: "key", optional: true },
      });
      assert.equal(envValue(c, "DAYTWO_STORE_ELASTICSEARCH_CA_FILE"), "/etc/daytwo/elasticsearch-ca/ca.pem");
      const m = mount(c, "/etc/daytwo/elasticsearch-ca");
      assert.ok(m?.readOnly);
      assert.equal(volume(d, m.name)?.secret?.secretName, "es-ca");
    });
  }

  it("uses the existing PriorityClass, the given data dir and no BOSH mount", () => {
    const ds = one(ms, "DaemonSet");
    assert.equal(podSpec(ds).priorityClassName, "system-node-critical");
    assert.equal(ms.filter((m) => m.kind === "PriorityClass").length, 0);
    const c = container(ds);
    assert.equal(volume(ds, mount(c, "/var/lib/daytwo")!.name)?.hostPath?.path, "/var/lib/daytwo-prod");
    assert.equal(mount(c, "/var/vcap/sys/log"), undefined);
    assert.equal(env(c, "DAYTWO_FORWARDER_BOSH_LOG_ROOT"), undefined);
    assert.deepEqual(spec<{ updateStrategy: unknown }>(ds).updateStrategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 0, maxUnavailable: "10%" },
    });
  });

  it("runs a fixed number of collectors without an HPA", () => {
    assert.equal(ms.filter((m) => m.kind === "HorizontalPodAutoscaler").length, 0);
    assert.equal(spec<{ replicas: number }>(one(ms, "Deployment", "-collector")).replicas, 4);
    assert.equal(spec<{ minAvailable: string }>(one(ms, "PodDisruptionBudget")).minAvailable, "50%");
  });
});

describe("chart with credentials and tokens given as values", () => {
  let ms: Manifest[];
  before(() => {
    ms = render({
      set: {
        "store.elasticsearch.username": "elastic",
        "store.elasticsearch.password": "s3cret",
        "auth.forwarderToken": "fwd-token",
      },
      setJson: { "auth.extraCollectorTokens": ["other-cluster"], "auth.queryTokens": ["op1", "op2"] },
    });
  });

  it("stores them in the chart's Secrets", () => {
    const dec = (m: Manifest) =>
      Object.fromEntries(
        Object.entries(m["data"] as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
      );
    assert.deepEqual(dec(one(ms, "Secret", "-elasticsearch")), { username: "elastic", password: "s3cret" });
    assert.deepEqual(dec(one(ms, "Secret", "-tokens")), {
      "forwarder-token": "fwd-token",
      "collector-tokens": "fwd-token,other-cluster",
      "query-tokens": "op1,op2",
    });
  });

  it("never puts a secret value in a pod spec", () => {
    const text = JSON.stringify(ms.filter((m) => m.kind !== "Secret"));
    for (const s of ["s3cret", "fwd-token", "other-cluster", "op1"]) assert.ok(!text.includes(s), s);
    const c = container(one(ms, "Deployment", "-collector"));
    assert.deepEqual(env(c, "DAYTWO_STORE_ELASTICSEARCH_PASSWORD")?.valueFrom?.secretKeyRef, {
      name: `${P}-elasticsearch`,
      key: "password",
      optional: true,
    });
  });

  it("renders manifests valid against the Kubernetes schemas", async () => {
    assert.deepEqual(await validateManifests(ms), []);
  });
});
