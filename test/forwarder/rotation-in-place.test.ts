import { test } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, openSync, renameSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { copytruncate, startBoshDaytwo, storedMessages, type BoshDaytwo } from '../helpers/bosh-daytwo.js'
import { startDaytwo, waitFor } from '../helpers/daytwo-process.js'

// Rotation in place, as hand-written rotation scripts do it: `cp app.log app.log.1 && : >
// app.log`, where the copy lands on the previous copy (cp over an existing file keeps its
// inode and rewrites its bytes), ten times a second, while the application keeps its file
// descriptor. Alone and alternating with rename-and-create, with and without a kill -9 of
// daytwo. Afterwards every line written is stored exactly once: a (stream, offset) that
// stood for other bytes before would make the store drop the line as a retry.
//
// ROTATION_LOOPS=<n> runs each scenario n times (locally, to shake out races); CI runs once.

const LOOPS = Math.max(1, Number(process.env.ROTATION_LOOPS ?? 1))
const CYCLES = 30
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

class Writer {
  private fd: number
  n = 0
  readonly lines: string[] = []
  constructor (readonly path: string, readonly name: string) { this.fd = openSync(path, 'a') }
  write (count: number): void {
    let s = ''
    for (let i = 0; i < count; i++) {
      const line = `${this.name} ${this.n++} ${'y'.repeat(this.n % 23)}`
      this.lines.push(line)
      s += line + '\n'
    }
    writeSync(this.fd, s)
  }

  reopen (): void { closeSync(this.fd); this.fd = openSync(this.path, 'a') }
  close (): void { closeSync(this.fd) }
}

/** `cp app.log app.log.1 && : > app.log`: the copy overwrites app.log.1 in place (same inode). */
function copyOntoCopy (path: string): void {
  copytruncate(path, '.1')
}

/** `mv app.log app.log.1` (the previous app.log.1 is gone) and the application reopens. */
function renameAndCreate (path: string, w: Writer): void {
  renameSync(path, path + '.1')
  w.reopen()
}

type Ctx = BoshDaytwo

async function metric (ctx: Ctx, name: string): Promise<string> {
  const text = await (await fetch(`${ctx.daytwo.urls.forwarder}/metrics`)).text()
  return text.split('\n').filter((l) => l.startsWith(name)).join('\n')
}

async function expectExactlyOnce (ctx: Ctx, written: string[], label: string): Promise<void> {
  const want = new Set(written)
  let got: string[] = []
  await waitFor(async () => { got = await storedMessages(ctx); return new Set(got).size >= want.size }, 30000, 150)
  await sleep(400) // a late duplicate would show now
  got = await storedMessages(ctx)
  const count = new Map<string, number>()
  for (const l of got) count.set(l, (count.get(l) ?? 0) + 1)
  const missing = written.filter((l) => !count.has(l))
  const doubled = [...count].filter(([, n]) => n > 1).map(([l]) => l)
  const foreign = got.filter((l) => !want.has(l))
  const info = `${label}: ${written.length} written, ${got.length} stored, ${missing.length} missing (e.g. ${JSON.stringify(missing.slice(0, 3))}), ` +
    `${doubled.length} twice (e.g. ${JSON.stringify(doubled.slice(0, 3))})\n${await metric(ctx, 'daytwo_forwarder_file_').catch(() => '')}\n${ctx.daytwo.stderr().slice(-1500)}`
  assert.equal(missing.length, 0, info)
  assert.equal(doubled.length, 0, info)
  assert.equal(foreign.length, 0, info)
}

type Rotation = 'copy' | 'rename'

/**
 * CYCLES rotations 100 ms apart, the writer writing every 20 ms. `kill`: at the middle,
 * daytwo is killed between two rotations, with lines in flight, and lines are written while
 * it is down; after the restart, rotations resume once it has caught up (a copy onto the
 * copy overwrites the bytes of the copy before: what daytwo had not read by then, no reader
 * could recover). At 3/4, once everything is stored, it is killed again and one rotation
 * happens while it is down.
 */
async function scenario (t: { after: (fn: () => unknown) => void }, job: string, plan: (cycle: number) => Rotation, kill: boolean): Promise<void> {
  const ctx = await startBoshDaytwo(t, job, 'rip')
  const path = join(ctx.logDir, `${job}.log`)
  const w = new Writer(path, job)
  t.after(() => w.close())
  w.write(5)
  // Each rotation destroys the bytes of the one before (a copy onto the copy, a rename onto
  // the rotated name): on a machine too busy to read them within 100 ms no reader could keep
  // them. So a rotation waits, if it must, until the lines it would destroy are stored; on an
  // idle machine it never does, and the forwarder is still reading the live file while each
  // copy and truncation happen.
  const caughtUp = async (n: number) => await waitFor(async () => new Set(await storedMessages(ctx)).size >= n, 15000, 25)
  await caughtUp(w.lines.length)
  let before = w.lines.length
  for (let c = 0; c < CYCLES; c++) {
    for (let k = 0; k < 5; k++) {
      w.write(4)
      await sleep(20)
      if (kill && c === CYCLES / 2 && k === 2) {
        await ctx.daytwo.kill()
        w.write(30)
        ctx.daytwo = await startDaytwo('all', ctx.cfg, ctx.dir)
        await waitFor(async () => new Set(await storedMessages(ctx)).size >= w.lines.length, 20000, 50)
      }
    }
    await caughtUp(before)
    before = w.lines.length
    const r = plan(c)
    if (r === 'copy') copyOntoCopy(path)
    else renameAndCreate(path, w)
    if (kill && c === (CYCLES * 3) / 4) {
      await waitFor(async () => new Set(await storedMessages(ctx)).size >= w.lines.length, 20000, 100)
      await ctx.daytwo.kill()
      w.write(10)
      if (plan(c + 1) === 'copy') copyOntoCopy(path)
      else renameAndCreate(path, w)
      before = w.lines.length - 10
      w.write(10)
      ctx.daytwo = await startDaytwo('all', ctx.cfg, ctx.dir)
    }
  }
  w.write(7)
  assert.ok(statSync(path).size > 0)
  await expectExactlyOnce(ctx, w.lines, job)
}

for (let loop = 0; loop < LOOPS; loop++) {
  const n = LOOPS > 1 ? ` (run ${loop + 1})` : ''
  test(`copy onto the previous copy, 10 a second${n}`, async (t) => {
    await scenario(t, 'cpa', () => 'copy', false)
  })
  test(`copy onto the previous copy, 10 a second, kill -9 twice${n}`, async (t) => {
    await scenario(t, 'cpk', () => 'copy', true)
  })
  test(`copy onto the copy alternating with rename-and-create${n}`, async (t) => {
    await scenario(t, 'alt', (c) => c % 2 === 0 ? 'copy' : 'rename', false)
  })
  test(`copy onto the copy alternating with rename-and-create, kill -9 twice${n}`, async (t) => {
    await scenario(t, 'alk', (c) => c % 2 === 0 ? 'copy' : 'rename', true)
  })
}
