import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseSyslog } from '../../../forwarder/sources/syslog/parse-syslog.js'
import { deploymentRules, streamTags, type TagContext } from '../../../forwarder/sources/syslog/stream-tags.js'

const ctx: TagContext = { node: 'node-1', epoch: 'e1', listener: 'tcp://0.0.0.0:514', peer: '10.0.0.9', rules: deploymentRules(['10.0.16.*=cf', 'edge-?.net=literal', 'edge-*=network']), defaultDeployment: 'syslog', trustIdentity: true }
const parse = (s: string) => parseSyslog(s, { zone: 'UTC', nowMs: Date.parse('2026-11-23T00:00:00Z') })

test('hostname globs map to deployments; dots and question marks are literal', () => {
  assert.equal(streamTags(parse('<14>1 - 10.0.16.22 app - - - m'), ctx).deployment, 'cf')
  assert.equal(streamTags(parse('<14>1 - 10.0.16.200.lan app - - - m'), ctx).deployment, 'cf', '* matches any run, dots included')
  assert.equal(streamTags(parse('<14>1 - 10x0.16.2 app - - - m'), ctx).deployment, 'syslog', 'the dot is not a wildcard')
  assert.equal(streamTags(parse('<14>1 - edge-1.net app - - - m'), ctx).deployment, 'network', '? is literal')
  assert.equal(streamTags(parse('<14>1 - other app - - - m'), ctx).deployment, 'syslog')
})

test('missing hostname and app-name: the peer address and "-"', () => {
  const t = streamTags(parse('<14>1 - - - - - - m'), ctx)
  assert.equal(t.index, '10.0.0.9')
  assert.equal(t.job, '-')
  assert.equal(t.path, 'tcp://0.0.0.0:514')
  assert.equal(t.labels?.transport, 'tcp')
})

test('the stream id is a function of every tag, the listener, the node and the spool epoch', () => {
  const a = streamTags(parse('<14>1 - web-1 nginx 12 - - m'), ctx)
  assert.equal(streamTags(parse('<11>1 - web-1 nginx 12 ID9 [x@1 a="b"] other'), ctx).id, a.id, 'severity, msgid and other SD do not split a stream')
  for (const [what, t] of [
    ['procid', streamTags(parse('<14>1 - web-1 nginx 13 - - m'), ctx)],
    ['identity SD', streamTags(parse('<14>1 - web-1 nginx 12 - [daytwo@32473 deployment="shop"] m'), ctx)],
    ['listener', streamTags(parse('<14>1 - web-1 nginx 12 - - m'), { ...ctx, listener: 'udp://0.0.0.0:514' })],
    ['epoch', streamTags(parse('<14>1 - web-1 nginx 12 - - m'), { ...ctx, epoch: 'e2' })],
    ['node', streamTags(parse('<14>1 - web-1 nginx 12 - - m'), { ...ctx, node: 'node-2' })]
  ] as const) assert.notEqual(t.id, a.id, what)
})

test('streamLabels: facility, severity and msgid as labels, each value a stream of its own', () => {
  const c = { ...ctx, streamLabels: ['facility', 'severity', 'msgid'] as const }
  const err = streamTags(parse('<27>1 - web-1 nginx 12 ID47 - m'), c)
  assert.deepEqual([err.labels?.facility, err.labels?.severity, err.labels?.msgid], ['daemon', 'err', 'ID47'])
  const info = streamTags(parse('<30>1 - web-1 nginx 12 ID47 - m'), c)
  assert.equal(info.labels?.severity, 'info')
  assert.notEqual(info.id, err.id)
  assert.equal(streamTags(parse('<30>1 - web-1 nginx 12 - - m'), c).labels?.msgid, undefined, 'no msgid, no label')
  assert.equal(streamTags(parse('<27>1 - web-1 nginx 12 ID47 - m'), ctx).labels?.severity, undefined, 'off by default')
})
