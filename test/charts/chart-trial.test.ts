import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { kinds, NAMESPACE, one, RELEASE, render, type Manifest } from "./helm.js";
import { validateManifests } from "./k8s-validate.js";
import { container, env, envValue, mount, podSpec, spec } from "./k8s-access.js";

// ci/trial-values.yaml: embedded store (one `serve collector,query` pod), Ingress,
// ServiceMonitor, a created PriorityClass, syslog on the nodes, a config file.

const P = `${RELEASE}-daytwo`;

describe("chart with the embedded store (ci/trial-values.yaml)", () => {
  let ms: Manifest[];
  before(() => {
    ms = render({ valuesFiles: ["ci/trial-values.yaml"] });
  });

  it("renders one server StatefulSet instead of the collector and query Deployments", () => {
    assert.deepEqual(kinds(ms), [
      `ClusterRole/${P}-forwarder`,
      `ClusterRoleBinding/${P}-forwarder`,
      `ConfigMap/${P}-config`,
      `ConfigMap/${P}-fleet-dashboard`,
      `ConfigMap/${P}-pipeline-dashboard`,
      `ConfigMap/${P}-tenants-dashboard`,
      `DaemonSet/${P}-forwarder`,
      `Ingress/${P}-query`,
      `PriorityClass/${P}-forwarder`,
      `Secret/${P}-tokens`,
      `Service/${P}-collector`,
      `Service/${P}-forwarder`,
      `Service/${P}-query`,
      `Service/${P}-server`,
      `ServiceAccount/${P}-forwarder`,
      `ServiceMonitor/${P}`,
      `ServiceMonitor/${P}-fleet`,
      `StatefulSet/${P}-server`,
    ]);
  });

  it("renders manifests valid against the Kubernetes and prometheus-operator schemas", async () => {
    assert.deepEqual(await validateManifests(ms), []);
  });

  it("runs `serve collector,query` once, on a claim mounted as the data dir", () => {
    const sts = one(ms, "StatefulSet");
    const s = spec<{
      replicas: number;
      serviceName: string;
      volumeClaimTemplates: { metadata: { name: string }; spec: { resources: { requests: { storage: string } }; storageClassName: string } }[];
    }>(sts);
    assert.equal(s.replicas, 1);
    assert.equal(s.serviceName, `${P}-server`);
    const c = container(sts, "server");
    assert.deepEqual(c.args, ["serve", "collector,query"]);
    assert.equal(envValue(c, "DAYTWO_STORE_KIND"), "embedded");
    assert.equal(env(c, "DAYTWO_STORE_ELASTICSEARCH_URL"), undefined);
    assert.equal(envValue(c, "DAYTWO_DATA_DIR"), "/var/lib/daytwo");
    const data = mount(c, "/var/lib/daytwo");
    assert.ok(data);
    assert.deepEqual(
      s.volumeClaimTemplates.map((t) => [t.metadata.name, t.spec.resources.requests.storage, t.spec.storageClassName]),
      [[data.name, "5Gi", "fast"]],
    );
    assert.equal((podSpec(sts).volumes ?? []).find((v) => v.name === data.name), undefined, "claim, not a pod volume");
    assert.deepEqual(env(c, "DAYTWO_COLLECTOR_TOKENS")?.valueFrom?.secretKeyRef?.key, "collector-tokens");
    assert.deepEqual(env(c, "DAYTWO_QUERY_TOKENS")?.valueFrom?.secretKeyRef?.key, "query-tokens");
    assert.deepEqual(
      c.ports?.map((p) => [p.name, p.containerPort]),
      [
        ["collector", 9602],
        ["query", 9603],
      ],
    );
    assert.deepEqual(c.readinessProbe?.httpGet, { path: "/readyz", port: "collector" });
    assert.deepEqual(c.livenessProbe?.httpGet, { path: "/healthz", port: "collector" });
    assert.equal(podSpec(sts).securityContext?.runAsNonRoot, true);
  });

  it("keeps the collector and query Service names, pointing at the server pod", () => {
    const podLabels = (one(ms, "StatefulSet")["spec"] as { template: { metadata: { labels: Record<string, string> } } })
      .template.metadata.labels;
    for (const role of ["collector", "query"]) {
      const s = spec<{ selector: Record<string, string>; ports: { targetPort: string }[] }>(one(ms, "Service", `-${role}`));
      for (const [k, v] of Object.entries(s.selector)) assert.equal(podLabels[k], v, `${role} selector ${k}`);
      assert.deepEqual(s.ports.map((p) => p.targetPort), [role]);
    }
    const fwd = container(one(ms, "DaemonSet"), "forwarder");
    assert.equal(envValue(fwd, "DAYTWO_FORWARDER_COLLECTOR_URL"), `http://${P}-collector:9602`);
  });

  it("routes the Ingress to the query Service", () => {
    const s = spec<{
      ingressClassName: string;
      tls: unknown;
      rules: { host: string; http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] } }[];
    }>(one(ms, "Ingress"));
    assert.equal(s.ingressClassName, "nginx");
    assert.deepEqual(s.tls, [{ secretName: "logs-tls", hosts: ["logs.trial.example"] }]);
    assert.equal(s.rules[0]?.host, "logs.trial.example");
    assert.deepEqual(s.rules[0]?.http.paths[0]?.backend.service, { name: `${P}-query`, port: { name: "http" } });
  });

  it("scrapes the fleet's metrics from the collector Service alone", () => {
    const sm = ms.find((m) => m.kind === "ServiceMonitor" && m.metadata.name === `${P}-fleet`);
    assert.ok(sm, "a fleet ServiceMonitor");
    const s = spec<{ selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string; honorLabels?: boolean }[] }>(sm);
    assert.deepEqual(s.endpoints.map((e) => [e.port, e.path, e.honorLabels]), [["http", "/fleet/metrics", true]]);
    const selected = ms.filter((m) => m.kind === "Service" && Object.entries(s.selector.matchLabels).every(([k, v]) => m.metadata.labels?.[k] === v));
    assert.deepEqual(selected.map((m) => m.metadata.name), [`${P}-collector`]);
  });

  it("scrapes /metrics of every role's Service", () => {
    const sm = ms.find((m) => m.kind === "ServiceMonitor" && m.metadata.name === P)!;
    assert.equal(sm.metadata.labels?.["release"], "prometheus");
    const s = spec<{ selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] }>(sm);
    assert.deepEqual(s.endpoints.map((e) => [e.port, e.path]), [["http", "/metrics"]]);
    const selected = ms.filter(
      (m) =>
        m.kind === "Service" &&
        Object.entries(s.selector.matchLabels).every(([k, v]) => m.metadata.labels?.[k] === v),
    );
    assert.deepEqual(selected.map((m) => m.metadata.name).sort(), [`${P}-collector`, `${P}-forwarder`, `${P}-query`]);
    for (const svc of selected) {
      const ports = spec<{ ports: { name: string }[] }>(svc).ports;
      assert.ok(ports.some((p) => p.name === "http"), `${svc.metadata.name} has the scraped port`);
    }
  });

  it("gives the forwarders the created PriorityClass", () => {
    const pc = one(ms, "PriorityClass");
    assert.equal(pc["value"], 900000);
    assert.equal(pc["globalDefault"], false);
    assert.equal(podSpec(one(ms, "DaemonSet")).priorityClassName, pc.metadata.name);
  });

  it("opens syslog ports on the node and tells the forwarder", () => {
    const c = container(one(ms, "DaemonSet"), "forwarder");
    assert.equal(envValue(c, "DAYTWO_FORWARDER_SYSLOG_UDP_PORT"), "5514");
    assert.equal(envValue(c, "DAYTWO_FORWARDER_SYSLOG_TCP_PORT"), "6514");
    const ports = (c.ports ?? []).map((p) => [p.name, p.protocol, p.containerPort, p.hostPort]);
    assert.deepEqual(ports, [
      ["http", "TCP", 9601, undefined],
      ["syslog-udp", "UDP", 5514, 5514],
      ["syslog-tcp", "TCP", 6514, 6514],
    ]);
    assert.equal(envValue(c, "DAYTWO_FORWARDER_DEPLOYMENT"), "cf");
    assert.equal(envValue(c, "DAYTWO_FORWARDER_JOB"), "router");
    assert.equal(envValue(c, "DAYTWO_FORWARDER_INDEX"), "0");
  });

  it("passes `config` as a JSON file through DAYTWO_CONFIG", () => {
    const cm = one(ms, "ConfigMap", "-config");
    assert.deepEqual(JSON.parse((cm["data"] as Record<string, string>)["config.json"]!), {
      forwarder: { deployment: "cf" },
    });
    for (const w of [one(ms, "DaemonSet"), one(ms, "StatefulSet")]) {
      const c = container(w);
      const file = envValue(c, "DAYTWO_CONFIG");
      assert.equal(file, "/etc/daytwo/config/config.json");
      const m = mount(c, "/etc/daytwo/config");
      assert.ok(m?.readOnly);
      assert.equal(podSpec(w).volumes?.find((v) => v.name === m.name)?.configMap?.name, cm.metadata.name);
    }
  });

  it("puts every namespaced object in the release namespace", () => {
    for (const m of ms) {
      if (!["ClusterRole", "ClusterRoleBinding", "PriorityClass"].includes(m.kind)) {
        assert.equal(m.metadata.namespace, NAMESPACE, `${m.kind}/${m.metadata.name}`);
      }
    }
  });
});

describe("chart with the embedded store and no persistence", () => {
  it("uses an emptyDir for the data dir", () => {
    const ms = render({ set: { "store.kind": "embedded", "store.embedded.persistence.enabled": false } });
    const sts = one(ms, "StatefulSet");
    assert.equal((sts["spec"] as { volumeClaimTemplates?: unknown }).volumeClaimTemplates, undefined);
    const m = mount(container(sts), "/var/lib/daytwo");
    assert.ok(m);
    assert.ok(podSpec(sts).volumes?.find((v) => v.name === m.name)?.emptyDir);
    assert.equal(ms.filter((m) => m.kind === "Deployment" || m.kind === "HorizontalPodAutoscaler").length, 0);
  });
});
