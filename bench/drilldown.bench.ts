// node dist/bench/drilldown.bench.js — what one Drilldown request costs over the
// embedded store: /patterns (the newest 5 000 lines sampled and clustered with Drain) and
// /detected_fields (the newest 100 lines parsed), on 500 k lines in 5 streams of three formats;
// and Drain alone, lines/s.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Entry, StreamTags } from '../core/record.js'
import { EmbeddedStore } from '../store/embedded/embedded-store.js'
import { Drain } from '../query/loki/drilldown/drain.js'
import { detectedFields } from '../query/loki/drilldown/detected-fields.js'
import { patterns } from '../query/loki/drilldown/patterns.js'
import { detectLogFormat, tokenizerFor } from '../query/loki/drilldown/pattern-tokenizers.js'
import type { DrilldownRequest } from '../query/loki/drilldown/request.js'

const N = 500_000
const STREAMS = 5
const dir = mkdtempSync(join(tmpdir(), 'daytwo-drilldown-bench-'))
const store = await EmbeddedStore.open(dir)
const t0 = 1795392000000000000n
const line = (k: number, s: number): string => s % 3 === 0
  ? `{"level":"info","msg":"request ${k} served in ${k % 97}ms","status":${k % 50 === 0 ? 500 : 200}}`
  : s % 3 === 1 ? `level=warn msg="slow request" duration_ms=${k % 3000} path=/v2/apps/${k % 40}` : `ERROR upstream timeout after ${k % 30}s on 10.0.${k % 256}.7`
for (let s = 0; s < STREAMS; s++) {
  const tags: StreamTags = { id: `s${s}`, source: 'file', node: 'node-1', deployment: 'cf', job: `job${s}`, index: '0', process: 'p', path: `/var/log/p${s}.log`, namespace: 'cf' }
  for (let base = 0; base < N / STREAMS; base += 10000) {
    const entries: Entry[] = []
    for (let i = base; i < base + 10000; i++) {
      const k = i * STREAMS + s
      entries.push([(t0 + BigInt(k) * 10_000_000n).toString(), i * 120, line(k, s), 'stdout'])
    }
    await store.write([{ stream: tags, entries }])
  }
}
const endNs = t0 + BigInt(N) * 10_000_000n
const req = (query: Record<string, string>): DrilldownRequest => ({ query, params: {}, principal: { org: null } }) as unknown as DrilldownRequest
const range = { start: new Date(Number(t0 / 1_000_000n)).toISOString(), end: new Date(Number(endNs / 1_000_000n)).toISOString() }

async function time (name: string, f: () => Promise<string>): Promise<void> {
  await f()
  const runs = 5
  const t = process.hrtime.bigint()
  let what = ''
  for (let i = 0; i < runs; i++) what = await f()
  console.log(`${name}: ${(Number(process.hrtime.bigint() - t) / 1e6 / runs).toFixed(1)} ms (${what})`)
}

await time('patterns {deployment="cf"} step 1m', async () => `${(await patterns(store, req({ ...range, query: '{deployment="cf"}', step: '1m' }))).data.length} patterns`)
await time('detected_fields {deployment="cf"} | json | logfmt', async () => `${(await detectedFields(store, req({ ...range, query: '{deployment="cf"} | json | logfmt | drop __error__, __error_details__' }))).fields.length} fields`)
for (const s of [0, 1, 2]) {
  const lines = Array.from({ length: 100_000 }, (_, k) => line(k, s))
  const t = process.hrtime.bigint()
  const d = new Drain(tokenizerFor(detectLogFormat(lines[0]!)))
  for (let k = 0; k < lines.length; k++) d.train(lines[k]!, k)
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  console.log(`Drain, ${detectLogFormat(lines[0]!)} lines: ${Math.round(lines.length / ms * 1000)} lines/s, ${d.all().length} clusters`)
}
await store.close()
rmSync(dir, { recursive: true, force: true })
