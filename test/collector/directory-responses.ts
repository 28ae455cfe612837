// Recorded response shapes of the directories the collector asks (trimmed to what matters,
// field names as the APIs document them).

/** Kubernetes `GET /api/v1/namespaces/<name>` (core/v1 Namespace). */
export function k8sNamespace (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): unknown {
  return {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: {
      name,
      uid: '6c1b2f4e-8d3a-4f7e-9b1a-2d5c7e9f0a11',
      resourceVersion: '48213',
      creationTimestamp: '2026-11-01T09:00:00Z',
      labels: { 'kubernetes.io/metadata.name': name, ...labels },
      ...(Object.keys(annotations).length ? { annotations } : {})
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' }
  }
}

/** Kubernetes 404 for an unknown namespace (meta/v1 Status). */
export function k8sNotFound (name: string): unknown {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `namespaces "${name}" not found`, reason: 'NotFound', details: { name, kind: 'namespaces' }, code: 404 }
}

/** Cloud Foundry `GET /v3/apps/<guid>?include=space.organization`. */
export function cfApp (guid: string, name: string, space: { guid: string, name: string }, org: { guid: string, name: string }): unknown {
  const link = (p: string) => ({ href: `https://api.example.com${p}` })
  return {
    guid,
    created_at: '2026-10-01T12:00:00Z',
    updated_at: '2026-11-01T12:00:00Z',
    name,
    state: 'STARTED',
    lifecycle: { type: 'buildpack', data: { buildpacks: ['java_buildpack'], stack: 'cflinuxfs4' } },
    relationships: { space: { data: { guid: space.guid } }, current_droplet: { data: { guid: 'a4f2b8c0-1d3e-4f5a-8b7c-9d0e1f2a3b4c' } } },
    metadata: { labels: {}, annotations: {} },
    links: { self: link(`/v3/apps/${guid}`), space: link(`/v3/spaces/${space.guid}`) },
    included: {
      spaces: [{
        guid: space.guid,
        created_at: '2026-09-01T12:00:00Z',
        updated_at: '2026-09-01T12:00:00Z',
        name: space.name,
        relationships: { organization: { data: { guid: org.guid } }, quota: { data: null } },
        metadata: { labels: {}, annotations: {} },
        links: { self: link(`/v3/spaces/${space.guid}`), organization: link(`/v3/organizations/${org.guid}`) }
      }],
      organizations: [{
        guid: org.guid,
        created_at: '2026-08-01T12:00:00Z',
        updated_at: '2026-08-01T12:00:00Z',
        name: org.name,
        suspended: false,
        relationships: { quota: { data: { guid: 'b7e6c5d4-3a2b-4c1d-8e9f-0a1b2c3d4e5f' } } },
        metadata: { labels: {}, annotations: {} },
        links: { self: link(`/v3/organizations/${org.guid}`) }
      }]
    }
  }
}

/** Cloud Foundry v3 error for an unknown app. */
export function cfNotFound (): unknown {
  return { errors: [{ detail: 'App not found', title: 'CF-ResourceNotFound', code: 10010 }] }
}
