import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { kinds, NAMESPACE, one, RELEASE, render, type Manifest } from "./helm.js";
import { validateManifests } from "./k8s-validate.js";
import { container, env, envValue, mount, podSpec, spec, volume } from "./k8s-access.js";

// Default values: Elasticsearch store, forwarder DaemonSet, collector and query apart.

const P = `${RELEASE}-daytwo`;

describe("chart with default values", () => {
  let ms: Manifest[];
  before(() => {
    ms = render();
  });

  it("renders exactly the expected objects", () => {
    assert.deepEqual(kinds(ms), [
      `ClusterRole/${P}-forwarder`,
      `ClusterRoleBinding/${P}-forwarder`,
      `ConfigMap/${P}-fleet-dashboard`,
      `ConfigMap/${P}-pipeline-dashboard`,
      `ConfigMap/${P}-tenants-dashboard`,
      `DaemonSet/${P}-forwarder`,
      `Deployment/${P}-collector`,
      `Deployment/${P}-query`,
      `HorizontalPodAutoscaler/${P}-collector`,
      `PodDisruptionBudget/${P}-collector`,
      `Secret/${P}-tokens`,
      `Service/${P}-collector`,
      `Service/${P}-forwarder`,
      `Service/${P}-query`,
      `ServiceAccount/${P}-forwarder`,
    ]);
    for (const m of ms) {
      if (m.kind !== "ClusterRole" && m.kind !== "ClusterRoleBinding") {
        assert.equal(m.metadata.namespace, NAMESPACE, `${m.kind} namespace`);
      }
    }
  });

  it("renders manifests valid against the Kubernetes schemas", async () => {
    assert.deepEqual(await validateManifests(ms), []);
  });

  describe("forwarder DaemonSet", () => {
    let ds: Manifest;
    before(() => {
      ds = one(ms, "DaemonSet");
    });

    it("updates with maxSurge 0 and maxUnavailable 1", () => {
      const s = spec<{ updateStrategy: unknown }>(ds);
      assert.deepEqual(s.updateStrategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    });

    it("runs `serve forwarder` from the chart's image", () => {
      const c = container(ds, "forwarder");
      assert.deepEqual(c.args, ["serve", "forwarder"]);
      assert.equal(c.image, "ghcr.io/daytwo/daytwo:0.1.0");
    });

    it("mounts host logs read-only at the same paths, and the data dir read-write", () => {
      const c = container(ds, "forwarder");
      const expected: [string, string][] = [
        ["/var/log/pods", "/var/log/pods"],
        ["/var/log/containers", "/var/log/containers"],
        ["/var/lib/docker/containers", "/var/lib/docker/containers"],
        ["/var/vcap/sys/log", "/var/vcap/sys/log"],
      ];
      for (const [mountPath, hostPath] of expected) {
        const m = mount(c, mountPath);
        assert.ok(m, `mount ${mountPath}`);
        assert.equal(m.readOnly, true, `${mountPath} read-only`);
        assert.equal(volume(ds, m.name)?.hostPath?.path, hostPath);
      }
      const data = mount(c, "/var/lib/daytwo");
      assert.ok(data);
      assert.notEqual(data.readOnly, true);
      assert.deepEqual(volume(ds, data.name)?.hostPath, {
        path: `/var/lib/daytwo/${NAMESPACE}_${RELEASE}`,
        type: "DirectoryOrCreate",
      });
      const tmp = mount(c, "/tmp");
      assert.ok(tmp && volume(ds, tmp.name)?.emptyDir, "writable /tmp on a read-only root");
    });

    it("tells the process its node, paths, collector and token", () => {
      const c = container(ds, "forwarder");
      assert.deepEqual(env(c, "DAYTWO_NODE")?.valueFrom, { fieldRef: { fieldPath: "spec.nodeName" } });
      assert.equal(envValue(c, "DAYTWO_DATA_DIR"), "/var/lib/daytwo");
      assert.equal(envValue(c, "DAYTWO_FORWARDER_HOST"), "0.0.0.0");
      assert.equal(envValue(c, "DAYTWO_FORWARDER_PORT"), "9601");
      assert.equal(envValue(c, "DAYTWO_FORWARDER_COLLECTOR_URL"), `http://${P}-collector:9602`);
      assert.equal(envValue(c, "DAYTWO_FORWARDER_POD_LOG_ROOT"), "/var/log/pods");
      assert.equal(envValue(c, "DAYTWO_FORWARDER_CONTAINER_LOG_ROOT"), "/var/log/containers");
      assert.equal(envValue(c, "DAYTWO_FORWARDER_BOSH_LOG_ROOT"), "/var/vcap/sys/log");
      assert.deepEqual(env(c, "DAYTWO_FORWARDER_TOKEN")?.valueFrom, {
        secretKeyRef: { name: `${P}-tokens`, key: "forwarder-token" },
      });
      assert.equal(env(c, "DAYTWO_FORWARDER_SYSLOG_UDP_PORT"), undefined, "syslog off by default");
      for (const e of c.env ?? []) assert.match(e.name, /^DAYTWO_[A-Z0-9_]+$/);
    });

    it("runs as root with a read-only root, no escalation and only DAC_READ_SEARCH", () => {
      const sc = container(ds, "forwarder").securityContext;
      assert.equal(sc?.runAsUser, 0);
      assert.equal(sc?.readOnlyRootFilesystem, true);
      assert.equal(sc?.allowPrivilegeEscalation, false);
      assert.deepEqual(sc?.capabilities, { drop: ["ALL"], add: ["DAC_READ_SEARCH"] });
    });

    it("probes /healthz and /readyz on its port, and has requests and limits", () => {
      const c = container(ds, "forwarder");
      assert.deepEqual(c.livenessProbe?.httpGet, { path: "/healthz", port: "http" });
      assert.deepEqual(c.readinessProbe?.httpGet, { path: "/readyz", port: "http" });
      assert.equal(c.ports?.find((p) => p.name === "http")?.containerPort, 9601);
      assert.ok(c.resources?.requests?.["cpu"] && c.resources.requests["memory"]);
      assert.ok(c.resources?.limits?.["cpu"] && c.resources.limits["memory"]);
    });

    it("tolerates every taint and uses its own ServiceAccount", () => {
      const ps = podSpec(ds);
      assert.deepEqual(ps.tolerations, [{ operator: "Exists" }]);
      assert.equal(ps.serviceAccountName, `${P}-forwarder`);
      assert.equal(ps.priorityClassName, undefined);
    });
  });

  it("gives the forwarder read access to pods and nodes and the kubelet API, nothing more", () => {
    const role = one(ms, "ClusterRole");
    const rules = role["rules"] as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const grants = new Map<string, string[]>();
    for (const r of rules) {
      assert.deepEqual(r.apiGroups, [""]);
      for (const res of r.resources) grants.set(res, [...r.verbs].sort());
    }
    assert.deepEqual(Object.fromEntries(grants), {
      pods: ["get", "list", "watch"],
      nodes: ["get", "list", "watch"],
      "nodes/proxy": ["get"],
      "nodes/stats": ["get"],
      "nodes/metrics": ["get"],
    });
    const binding = one(ms, "ClusterRoleBinding");
    assert.deepEqual(binding["roleRef"], {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: role.metadata.name,
    });
    assert.deepEqual(binding["subjects"], [
      { kind: "ServiceAccount", name: `${P}-forwarder`, namespace: NAMESPACE },
    ]);
  });

  for (const role of ["collector", "query"] as const) {
    describe(`${role} Deployment`, () => {
      let d: Manifest;
      before(() => {
        d = one(ms, "Deployment", `-${role}`);
      });

      it(`runs \`serve ${role}\` as a non-root user with a read-only root`, () => {
        const c = container(d, role);
        assert.deepEqual(c.args, ["serve", role]);
        const ps = podSpec(d);
        assert.equal(ps.securityContext?.runAsNonRoot, true);
        assert.notEqual(ps.securityContext?.runAsUser, 0);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext?.capabilities, { drop: ["ALL"] });
        assert.equal(ps.automountServiceAccountToken, false);
      });

      it("probes /healthz and /readyz on its own port", () => {
        const c = container(d, role);
        const port = role === "collector" ? 9602 : 9603;
        assert.equal(c.ports?.find((p) => p.name === "http")?.containerPort, port);
        assert.equal(envValue(c, `DAYTWO_${role.toUpperCase()}_PORT`), String(port));
        assert.equal(envValue(c, `DAYTWO_${role.toUpperCase()}_HOST`), "0.0.0.0");
        assert.deepEqual(c.livenessProbe?.httpGet, { path: "/healthz", port: "http" });
        assert.deepEqual(c.readinessProbe?.httpGet, { path: "/readyz", port: "http" });
      });

      it("reads its tokens and the Elasticsearch settings from env", () => {
        const c = container(d, role);
        const tokens = role === "collector" ? "DAYTWO_COLLECTOR_TOKENS" : "DAYTWO_QUERY_TOKENS";
        const key = role === "collector" ? "collector-tokens" : "query-tokens";
        assert.deepEqual(env(c, tokens)?.valueFrom, { secretKeyRef: { name: `${P}-tokens`, key } });
        assert.equal(envValue(c, "DAYTWO_STORE_KIND"), "elasticsearch");
        assert.equal(envValue(c, "DAYTWO_STORE_ELASTICSEARCH_URL"), "http://elasticsearch-master:9200");
        assert.equal(envValue(c, "DAYTWO_STORE_ELASTICSEARCH_DATA_STREAM"), "logs-daytwo-default");
        // No credentials given: the Secret is not rendered and the optional refs stay unset.
        assert.deepEqual(env(c, "DAYTWO_STORE_ELASTICSEARCH_PASSWORD")?.valueFrom, {
          secretKeyRef: { name: `${P}-elasticsearch`, key: "password", optional: true },
        });
        assert.equal(env(c, "DAYTWO_FORWARDER_TOKEN"), undefined, "a role gets only its own token");
      });

      it("is reached through a Service on the named port", () => {
        const svc = one(ms, "Service", `-${role}`);
        const s = spec<{ selector: Record<string, string>; ports: { port: number; targetPort: string }[] }>(svc);
        assert.equal(s.selector["app.kubernetes.io/component"], role);
        const tmplLabels = (d["spec"] as { template: { metadata: { labels: Record<string, string> } } }).template
          .metadata.labels;
        for (const [k, v] of Object.entries(s.selector)) assert.equal(tmplLabels[k], v, `pod label ${k}`);
        assert.deepEqual(s.ports.map((p) => [p.port, p.targetPort]), [[role === "collector" ? 9602 : 9603, "http"]]);
      });
    });
  }

  it("autoscales the collector and keeps one up during disruptions", () => {
    const hpa = one(ms, "HorizontalPodAutoscaler");
    const s = spec<{ scaleTargetRef: unknown; minReplicas: number; maxReplicas: number }>(hpa);
    assert.deepEqual(s.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: `${P}-collector` });
    assert.ok(s.minReplicas >= 2 && s.maxReplicas > s.minReplicas);
    assert.equal((one(ms, "Deployment", "-collector")["spec"] as { replicas?: number }).replicas, undefined);
    const pdb = one(ms, "PodDisruptionBudget");
    assert.equal(spec<{ minAvailable: number }>(pdb).minAvailable, 1);
  });

  it("generates tokens and gives the collector the forwarder's token", () => {
    const secret = one(ms, "Secret", "-tokens");
    const data = secret["data"] as Record<string, string>;
    const dec = (k: string) => Buffer.from(data[k] ?? "", "base64").toString("utf8");
    assert.match(dec("forwarder-token"), /^[A-Za-z0-9]{40}$/);
    assert.match(dec("query-tokens"), /^[A-Za-z0-9]{40}$/);
    assert.equal(dec("collector-tokens"), dec("forwarder-token"));
    assert.notEqual(dec("query-tokens"), dec("forwarder-token"));
  });
});
