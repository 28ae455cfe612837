import { test } from 'node:test'
import assert from 'node:assert/strict'
import { configSchema } from '../../core/config-schema.js'
import { HttpError } from '../../core/http-client.js'
import { Poster, collectorTls } from '../../forwarder/http-client.js'
import { selfSignedServer, skipWithoutOpenssl } from '../helpers/self-signed.js'

// The forwarder verifies an https collector: with forwarder.collectorCaFile when set, else
// with the system CAs, which do not know a self-signed collector. A refused handshake sends
// nothing, so the bearer token never reaches a server that could not prove who it is.

test('batches go to an https collector only when its CA is known (forwarder.collectorCaFile)', { skip: skipWithoutOpenssl }, async (t) => {
  const tokens: string[] = []
  const { url, ca } = await selfSignedServer(t, (req, res) => { tokens.push(req.headers.authorization ?? ''); req.resume(); req.on('end', () => res.end('{}')) })
  const headers = { authorization: 'Bearer forwarder-token' }

  const defaults = configSchema.parse({}).forwarder
  const unknown = new Poster(`${url}/api/v1/ingest`, headers, 5000, 1024, collectorTls(defaults))
  t.after(() => unknown.close())
  await assert.rejects(unknown.post(Buffer.from('x')), (err: unknown) => err instanceof HttpError && err.reason === 'tls')
  assert.deepEqual(tokens, [])

  const known = new Poster(`${url}/api/v1/ingest`, headers, 5000, 1024, collectorTls({ ...defaults, collectorCaFile: ca }))
  t.after(() => known.close())
  const res = await known.post(Buffer.from('x'))
  assert.equal(res.status, 200)
  assert.deepEqual(tokens, ['Bearer forwarder-token'])
})
