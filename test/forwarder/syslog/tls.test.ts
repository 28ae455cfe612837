import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { connect } from 'node:tls'
import { freePort, startDaytwo, tempDir, type DaytwoProcess } from '../../helpers/daytwo-process.js'
import { operatorToken } from '../../helpers/query-api.js'
import { findLoggen, findTool, runLoggen, syslogTestConfig, waitForRecords } from '../../helpers/syslog-senders.js'

// RFC 5425: syslog over TLS, with a certificate made by openssl for the test.

const openssl = findTool('openssl')

test('TLS listener: octet-counted and LF-framed messages, and loggen --use-ssl', { skip: openssl ? false : 'needs openssl (Debian package openssl)' }, async (t) => {
  const tmp = tempDir('daytwo-syslog-tls-')
  let d: DaytwoProcess | null = null
  t.after(async () => { await d?.stop(); tmp.cleanup() })
  const cert = join(tmp.path, 'cert.pem')
  const key = join(tmp.path, 'key.pem')
  const r = spawnSync(openssl!, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const port = await freePort()
  d = await startDaytwo('all', syslogTestConfig(tmp.path, { tlsPort: port, tlsCertFile: cert, tlsKeyFile: key }), tmp.path)
  assert.match(d.stdout(), new RegExp(`syslog on tls://127\\.0\\.0\\.1:${port}`))
  const token = operatorToken(join(tmp.path, 'data'))

  const m1 = '<13>1 2026-11-23T10:00:00Z h1 tlsapp 1 - - over TLS, octet counted'
  const payload = `${Buffer.byteLength(m1)} ${m1}<13>1 2026-11-23T10:00:01Z h1 tlsapp 1 - - over TLS, LF framed\n`
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca: readFileSync(cert) }, () => s.end(payload))
    s.on('error', reject)
    s.on('close', () => resolve())
  })
  const got = (await waitForRecords(d.urls.query!, token, 'syslog', 'tlsapp', 2)).flatMap((g) => g.entries.map((e) => [g.stream.path, e[2]]))
  assert.deepEqual(got, [[`tls://127.0.0.1:${port}`, 'over TLS, octet counted'], [`tls://127.0.0.1:${port}`, 'over TLS, LF framed']])

  // A client that does not trust the certificate gets nothing through (and daytwo stays up).
  await new Promise<void>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => { s.end(); resolve() })
    s.on('error', () => resolve())
  })

  const l = findLoggen()
  if (l === null) { t.diagnostic('loggen part skipped: needs loggen (Debian package syslog-ng-core, unpacked by .ci/setup.d/syslog-ng.sh)'); return }
  const lr = runLoggen(l, ['--use-ssl', '--syslog-proto', '--number', '100', '--rate', '5000', '--size', '160', '--quiet', '127.0.0.1', String(port)])
  assert.equal(lr.status, 0, lr.out)
  const lg = (await waitForRecords(d.urls.query!, token, 'syslog', 'prg00000', 100)).flatMap((g) => g.entries)
  assert.deepEqual(lg.map((e) => Number(/seq: (\d+)/.exec(e[2])?.[1])), Array.from({ length: 100 }, (_, i) => i))
})

test('TLS port without a certificate is refused at start with a message naming the keys', async (t) => {
  const tmp = tempDir('daytwo-syslog-tls-')
  t.after(() => tmp.cleanup())
  const port = await freePort()
  await assert.rejects(startDaytwo('all', syslogTestConfig(tmp.path, { tlsPort: port }), tmp.path), /forwarder\.syslog\.tlsCertFile and tlsKeyFile/)
})
