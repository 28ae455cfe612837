import type { Manifest } from "./helm.js";

// Small typed accessors for rendered workloads, so assertions read like the YAML.

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number; hostPort?: number; protocol?: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsUser?: number;
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
export interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: object;
  secret?: { secretName: string };
  configMap?: { name: string };
  persistentVolumeClaim?: { claimName: string };
}
export interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  serviceAccountName?: string;
  priorityClassName?: string;
  tolerations?: { operator?: string; key?: string }[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; fsGroup?: number };
  automountServiceAccountToken?: boolean;
}

export function podSpec(workload: Manifest): PodSpec {
  const spec = workload["spec"] as { template: { spec: PodSpec } };
  return spec.template.spec;
}

export function container(workload: Manifest, name?: string): Container {
  const cs = podSpec(workload).containers;
  const c = name === undefined ? cs[0] : cs.find((x) => x.name === name);
  if (!c) throw new Error(`${workload.kind}/${workload.metadata.name} has no container ${name ?? ""}`);
  return c;
}

export function env(c: Container, name: string): EnvVar | undefined {
  return (c.env ?? []).find((e) => e.name === name);
}

export function envValue(c: Container, name: string): string | undefined {
  return env(c, name)?.value;
}

export function mount(c: Container, mountPath: string) {
  return (c.volumeMounts ?? []).find((m) => m.mountPath === mountPath);
}

export function volume(workload: Manifest, name: string): Volume | undefined {
  return (podSpec(workload).volumes ?? []).find((v) => v.name === name);
}

export function spec<T = Record<string, unknown>>(m: Manifest): T {
  return m["spec"] as T;
}
