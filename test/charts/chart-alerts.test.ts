import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { CHART, RELEASE, lint, render, templateRaw, type Manifest } from "./helm.js";
import { validateManifests } from "./k8s-validate.js";

// The chart's alert rules (a PrometheusRule wrapping rules/daytwo.rules.yaml) and dashboards
// (one ConfigMap per dashboards/*.json for Grafana's sidecar), rendered by the real helm.

const P = `${RELEASE}-daytwo`;
const OPERATOR = ["monitoring.coreos.com/v1/PrometheusRule"];
const rulesFile = () => parse(readFileSync(join(CHART, "rules", "daytwo.rules.yaml"), "utf8")) as { groups: unknown[] };
const rules = (ms: Manifest[]) => ms.filter((m) => m.kind === "PrometheusRule");
const dashboards = (ms: Manifest[]) => ms.filter((m) => m.kind === "ConfigMap" && m.metadata.name.endsWith("-dashboard"));

describe("chart alert rules", () => {
  it("renders the rules file as a PrometheusRule when the cluster serves monitoring.coreos.com/v1", async () => {
    const ms = render({ apiVersions: OPERATOR, set: { "prometheusRule.labels.release": "kps" } });
    const [r, ...more] = rules(ms);
    assert.ok(r && more.length === 0, "one PrometheusRule");
    assert.equal(r.metadata.name, P);
    assert.equal(r.metadata.labels?.release, "kps");
    // Prometheus's own templates ({{ $labels.job }}) arrive unrendered: the spec is the file.
    assert.deepEqual((r["spec"] as { groups: unknown[] }).groups, rulesFile().groups);
    assert.deepEqual(await validateManifests([r]), []);
  });

  it("renders none by default on a cluster without the operator, or when disabled", () => {
    assert.deepEqual(rules(render()), []);
    assert.deepEqual(rules(render({ apiVersions: OPERATOR, set: { "prometheusRule.enabled": false } })), []);
  });

  it("renders it when forced on, with runbook links moved to runbookBaseUrl", () => {
    const [r] = rules(render({ set: { "prometheusRule.enabled": true, "prometheusRule.runbookBaseUrl": "https://wiki.example/daytwo/alerts/" } }));
    assert.ok(r, "a PrometheusRule");
    const urls = (r["spec"] as { groups: Array<{ rules: Array<{ alert: string, annotations: { runbook_url: string } }> }> }).groups
      .flatMap((g) => g.rules)
      .map((x) => [x.alert, x.annotations.runbook_url]);
    assert.ok(urls.length > 10);
    for (const [alert, url] of urls) assert.equal(url, `https://wiki.example/daytwo/alerts#${alert!.toLowerCase()}`);
  });

  it("passes helm lint --strict with the PrometheusRule", () => {
    const r = lint({ set: { "prometheusRule.enabled": true } });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout, /\[(ERROR|WARNING)\]/);
  });

  it("rejects an enabled value other than auto, true or false", () => {
    const r = templateRaw({ set: { "prometheusRule.enabled": "maybe" } });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /prometheusRule\/enabled/);
  });
});

describe("chart dashboards", () => {
  it("renders one ConfigMap per dashboard, labelled for Grafana's sidecar, holding the checked-in JSON", async () => {
    const ms = dashboards(render({ setJson: { "dashboards.annotations": { grafana_folder: "daytwo" } } }));
    assert.deepEqual(ms.map((m) => m.metadata.name).sort(), [`${P}-fleet-dashboard`, `${P}-pipeline-dashboard`, `${P}-tenants-dashboard`]);
    for (const m of ms) {
      assert.equal(m.metadata.labels?.grafana_dashboard, "1");
      assert.deepEqual(m.metadata["annotations"], { grafana_folder: "daytwo" });
      const data = m["data"] as Record<string, string>;
      const [file, ...more] = Object.keys(data);
      assert.ok(file && more.length === 0);
      assert.equal(data[file], readFileSync(join(CHART, "dashboards", file), "utf8").trimEnd());
      assert.equal((JSON.parse(data[file]!) as { uid: string }).uid, file.replace(/\.json$/, ""));
    }
    assert.deepEqual(await validateManifests(ms), []);
  });

  it("renders none when dashboards.enabled is false", () => {
    assert.deepEqual(dashboards(render({ set: { "dashboards.enabled": false } })), []);
  });
});
