import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeSync, openSync, closeSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { freePort, startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { operatorToken } from '../helpers/query-api.js'
import { metricValue, readLogs, syslogTestConfig } from '../helpers/syslog-senders.js'

// The syslog spool on a full disk (a small tmpfs mounted where the spool lives): messages it
// cannot write are refused and counted (reason spool_write_failed), the forwarder stays up,
// and once there is space again it spools and ships as before. What it had taken before the
// disk filled is shipped; every message is stored once or counted as dropped, never both.

const N = 3000

async function sendTcp (port: number, lines: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => { s.end(lines.join('\n') + '\n') })
    s.on('close', () => resolve())
    s.on('error', reject)
  })
}

function fill (dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w')
  const chunk = Buffer.alloc(64 * 1024, 0x78)
  try { for (;;) writeSync(fd, chunk) } catch { /* ENOSPC: full */ }
  for (let size = 4096; size >= 1; size >>= 1) try { for (;;) writeSync(fd, chunk, 0, size) } catch {}
  closeSync(fd)
}

test('a full disk under the syslog spool: refusals counted, no crash, shipping resumes when space returns', { timeout: 120_000 }, async (t) => {
  const tmp = tempDir('daytwo-spoolfs-')
  const spoolDir = join(tmp.path, 'data', 'forwarder', 'syslog-spool')
  mkdirSync(spoolDir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', spoolDir], { stdio: 'pipe' })
  } catch (err) {
    tmp.cleanup()
    t.skip(`cannot mount a tmpfs here (needs root): ${(err as Error).message.split('\n')[0]}`)
    return
  }
  const port = await freePort()
  const d = await startDaytwo('all', syslogTestConfig(tmp.path, { tcpPort: port, spoolSegmentBytes: 262144 }), tmp.path)
  t.after(async () => {
    await d.kill()
    try { execFileSync('umount', ['-l', spoolDir], { stdio: 'pipe' }) } catch {}
    tmp.cleanup()
  })
  const token = operatorToken(join(tmp.path, 'data'))
  const dropped = async (reason: string) => metricValue(await (await fetch(`${d.urls.forwarder}/metrics`)).text(), 'daytwo_forwarder_dropped_total', { reason })
  const msg = (kind: string, i: number) => `<14>1 2026-11-23T10:00:00.${String(i).padStart(6, '0')}Z host diskfull - - - ${kind}-${i} ${'p'.repeat(200)}`

  fill(spoolDir)
  await sendTcp(port, Array.from({ length: N }, (_, i) => msg('full', i)))
  assert.ok(await waitFor(async () => await dropped('spool_write_failed') > 0, 15_000), 'refusals are counted with reason spool_write_failed')
  assert.equal((await fetch(`${d.urls.forwarder}/healthz`)).status, 200, 'the forwarder is still up')
  assert.equal(d.child.exitCode, null)

  rmSync(join(spoolDir, 'filler'))
  await sendTcp(port, Array.from({ length: N }, (_, i) => msg('after', i)))
  const messages = async () => (await readLogs(d.urls.query!, token, 'syslog', 'diskfull')).flatMap((g) => g.entries.map((e) => e[2].split(' ')[0]!))
  assert.ok(await waitFor(async () => (await messages()).filter((m) => m.startsWith('after-')).length >= N, 30_000), 'every message sent after space returned is stored')
  const stored = await messages()
  assert.equal(new Set(stored).size, stored.length, 'nothing stored twice')
  const full = stored.filter((m) => m.startsWith('full-')).length
  const refused = await dropped('spool_write_failed')
  assert.equal(full + refused, N, `each message sent while the disk was full is stored (${full}) or counted as dropped (${refused})`)
  assert.equal(await dropped('spool_full'), 0, 'a full disk is not reported as a full spool')
})
