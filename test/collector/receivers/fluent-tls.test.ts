import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { metricValue, metrics } from '../../helpers/faults.js'
import { selfSignedCert, skipWithoutOpenssl } from '../../helpers/self-signed.js'
import { RawForward, sender, startFluentDaytwo, stored } from './fluent-helpers.js'

// The Fluent forward receiver over TLS (collector.fluent.tlsCertFile / tlsKeyFile), with a
// certificate made now by openssl: fluent-logger's own TLS option (`tls`, `tlsOptions` given
// to tls.connect) with the shared-key handshake inside it; a sender speaking plain TCP to the
// TLS port is refused in the handshake and counted, and nothing of it is stored.

test('Fluent forward over TLS: fluent-logger with tls and a shared key is acknowledged; plain TCP to the TLS port is refused and counted', { skip: skipWithoutOpenssl, timeout: 60_000 }, async (t) => {
  const { cert, key } = selfSignedCert(t)
  const f = await startFluentDaytwo(t, { tlsCertFile: cert, tlsKeyFile: key })
  const refused = async () => metricValue(await metrics(f.d.urls.collector!), 'daytwo_collector_rejected_requests_total', { reason: 'tls_refused' })

  const s = sender(f.port, { tls: true, tlsOptions: { ca: readFileSync(cert) } }) // no servername: an IP is no SNI name (Node 26 refuses one); the certificate's IP SAN is checked
  const lines = ['over TLS 0 ✓', 'over TLS 1 "quoted" \\ tab\t', 'over TLS 2']
  for (const line of lines) await s.emit('bosh.tlsdep.forward.0', { log: line })
  s.end()
  assert.deepEqual(s.errors, [])
  assert.deepEqual((await stored(f.d, 'tlsdep')).map((l) => l.message), lines, 'acknowledged over TLS means stored')
  assert.equal(await refused(), 0)

  // What a sender without `tls on` sends first: its frame in the clear, which is no TLS ClientHello.
  const plain = await RawForward.open(f.port)
  plain.send(['bosh.tlsdep.plain.0', Math.floor(Date.now() / 1000), { log: 'in the clear' }, { chunk: 'p1' }])
  await plain.untilClosed()
  assert.equal(await refused(), 1)
  assert.deepEqual((await stored(f.d, 'tlsdep')).map((l) => l.message), lines, 'nothing of the plain sender stored')
})
