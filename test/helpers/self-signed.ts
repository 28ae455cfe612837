import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { RequestListener } from 'node:http'
import { join } from 'node:path'
import { tempDir } from './daytwo-process.js'

/** The `skip` of a test that needs openssl (Debian package openssl) to make certificates. */
export const skipWithoutOpenssl = spawnSync('openssl', ['version']).status === 0 ? false : 'openssl not found: apt-get install openssl'

/**
 * A self-signed certificate for 127.0.0.1 made now (its own CA: `cert` is also the file a
 * client must be given to trust it), and its key, in a directory removed after the test.
 */
export function selfSignedCert (t: { after: (fn: () => unknown) => void }): { cert: string, key: string } {
  const tmp = tempDir('daytwo-self-signed-')
  t.after(tmp.cleanup)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 's.key', '-out', 's.crt', '-subj', '/CN=daytwo-test', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2'], { cwd: tmp.path, stdio: ['ignore', 'ignore', 'pipe'] })
  return { cert: join(tmp.path, 's.crt'), key: join(tmp.path, 's.key') }
}

/**
 * An https server on 127.0.0.1 with a self-signed certificate made now (its own CA): `ca` is
 * the file a client must be given to trust it.
 */
export async function selfSignedServer (t: { after: (fn: () => unknown) => void }, handler: RequestListener): Promise<{ url: string, ca: string, server: Server }> {
  const { cert: ca, key } = selfSignedCert(t)
  const server = createServer({ key: readFileSync(key), cert: readFileSync(ca) }, handler)
  t.after(() => { server.closeAllConnections(); server.close() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `https://127.0.0.1:${(server.address() as { port: number }).port}`, ca, server }
}
