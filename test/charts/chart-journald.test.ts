import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { one, render } from "./helm.js";
import { validateManifests } from "./k8s-validate.js";
import { container, envValue, mount, volume } from "./k8s-access.js";

// forwarder.journald.enabled: the node's journal folders mounted read-only below /host, and the
// forwarder told to read them with `journalctl --root=/host`; off by default.

describe("chart with the journald source", () => {
  it("is off by default: no journal mounts, no journald env", () => {
    const ds = one(render(), "DaemonSet");
    const c = container(ds, "forwarder");
    assert.equal(envValue(c, "DAYTWO_FORWARDER_JOURNALD_ENABLED"), undefined);
    assert.equal(mount(c, "/host/var/log/journal"), undefined);
    assert.equal(volume(ds, "journal-persistent"), undefined);
  });

  it("mounts /var/log/journal and /run/log/journal read-only and enables the source", async () => {
    const ms = render({ set: { "forwarder.journald.enabled": true, "forwarder.journald.readFrom": "head" }, setJson: { "forwarder.journald.units": ["kubelet.service", "containerd.service"] } });
    assert.deepEqual(await validateManifests(ms), []);
    const ds = one(ms, "DaemonSet");
    const c = container(ds, "forwarder");
    assert.equal(envValue(c, "DAYTWO_FORWARDER_JOURNALD_ENABLED"), "true");
    assert.equal(envValue(c, "DAYTWO_FORWARDER_JOURNALD_ROOT"), "/host");
    assert.equal(envValue(c, "DAYTWO_FORWARDER_JOURNALD_READ_FROM"), "head");
    assert.equal(envValue(c, "DAYTWO_FORWARDER_JOURNALD_UNITS"), "kubelet.service,containerd.service");
    for (const [name, host, inPod] of [["journal-persistent", "/var/log/journal", "/host/var/log/journal"], ["journal-volatile", "/run/log/journal", "/host/run/log/journal"]] as const) {
      const m = mount(c, inPod);
      assert.equal(m?.name, name);
      assert.equal(m?.readOnly, true, `${inPod} read-only`);
      assert.deepEqual(volume(ds, name)?.hostPath, { path: host });
    }
  });

  it("rejects an unknown journald value", () => {
    assert.throws(() => render({ set: { "forwarder.journald.directory": "/x" } }), /additional properties|directory/i);
  });
});
