import { test } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { copytruncate, startBoshDaytwo, storedMessages, type BoshDaytwo } from '../helpers/bosh-daytwo.js'
import { startDaytwo, waitFor } from '../helpers/daytwo-process.js'

// Rotation on real files, as logrotate and the kubelet do it, with a writer that keeps its
// file descriptor (as applications do) and a kill -9 of daytwo in the middle of each
// scenario. Afterwards every line written is stored exactly once.

class Writer {
  private fd: number
  n = 0
  readonly lines: string[] = []
  constructor (readonly path: string, readonly name: string) { this.fd = openSync(path, 'a') }
  write (count: number): void {
    let s = ''
    for (let i = 0; i < count; i++) {
      const line = `${this.name} line ${this.n++} ${'x'.repeat(this.n % 40)}`
      this.lines.push(line)
      s += line + '\n'
    }
    writeSync(this.fd, s)
  }

  /** The application reopens its log file (after logrotate's postrotate signal). */
  reopen (): void { closeSync(this.fd); this.fd = openSync(this.path, 'a') }
  close (): void { closeSync(this.fd) }
}

type Ctx = BoshDaytwo

async function restartAfterKill (ctx: Ctx, whileDown: () => void): Promise<void> {
  await ctx.daytwo.kill()
  whileDown()
  ctx.daytwo = await startDaytwo('all', ctx.cfg, ctx.dir)
}

async function expectExactlyOnce (ctx: Ctx, written: string[]): Promise<void> {
  let got: string[] = []
  const ok = await waitFor(async () => { got = await storedMessages(ctx); return got.length >= written.length }, 30000, 100)
  // A moment more, so a late duplicate would show.
  await new Promise((resolve) => setTimeout(resolve, 300))
  got = await storedMessages(ctx)
  const missing = written.filter((l) => !got.includes(l))
  assert.ok(ok, `stored ${got.length} of ${written.length} lines; missing e.g. ${JSON.stringify(missing.slice(0, 3))}\n${ctx.daytwo.stderr().slice(-2000)}`)
  const seen = new Map<string, number>()
  for (const l of got) seen.set(l, (seen.get(l) ?? 0) + 1)
  const doubled = [...seen].filter(([, n]) => n > 1).map(([l]) => l)
  assert.deepEqual(doubled, [], 'no line stored twice')
  assert.deepEqual([...got].sort(), [...written].sort())
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('rename rotation: lines written to the old file after the rename are still shipped; kill -9 between', async (t) => {
  const ctx = await startBoshDaytwo(t, 'app', 'rot')
  const path = join(ctx.logDir, 'app.log')
  const w = new Writer(path, 'rename')
  t.after(() => w.close())
  w.write(500)
  await sleep(200)
  renameSync(path, path + '.1')
  w.write(50) // still into the renamed file: the app has not reopened yet
  await restartAfterKill(ctx, () => {
    w.write(50) // written while daytwo is down, into the rotated file
    w.reopen()
    w.write(100)
  })
  w.write(300)
  await expectExactlyOnce(ctx, w.lines)
})

test('copytruncate: the copy\'s tail and the truncated file are both read, nothing twice; kill -9 between', async (t) => {
  const ctx = await startBoshDaytwo(t, 'ct', 'rot')
  const path = join(ctx.logDir, 'ct.log')
  const w = new Writer(path, 'copytruncate')
  t.after(() => w.close())
  w.write(400)
  await sleep(150)
  w.write(200) // maybe not read before the copy
  copytruncate(path, '.1')
  w.write(100) // O_APPEND: lands at the new start
  await sleep(300)
  await restartAfterKill(ctx, () => {
    // A second copytruncate while daytwo is down.
    copytruncate(path, '.2')
    w.write(100)
  })
  w.write(100)
  await expectExactlyOnce(ctx, w.lines)
})

test('delete and recreate: the deleted file is read to its end, the new one from its start', async (t) => {
  const ctx = await startBoshDaytwo(t, 'del', 'rot')
  const path = join(ctx.logDir, 'del.log')
  let w = new Writer(path, 'deleted')
  const all: string[] = []
  w.write(300)
  await sleep(150)
  rmSync(path)
  w.write(40) // into the deleted file, which the writer (and daytwo) still hold open
  w.close()
  all.push(...w.lines)
  w = new Writer(path, 'recreated')
  t.after(() => w.close())
  w.write(200)
  // A deleted file's bytes exist only while someone holds it open: the kill comes once
  // daytwo has read them (nothing could recover them after).
  assert.ok(await waitFor(async () => (await storedMessages(ctx)).filter((l) => l.startsWith('deleted')).length === 340, 15000))
  await restartAfterKill(ctx, () => { w.write(100) })
  w.write(100)
  all.push(...w.lines)
  await expectExactlyOnce(ctx, all)
})

test('10 rotations a second while writing, with a kill -9 in the middle', async (t) => {
  const ctx = await startBoshDaytwo(t, 'fast', 'rot')
  const path = join(ctx.logDir, 'fast.log')
  const w = new Writer(path, 'fast')
  t.after(() => w.close())
  // logrotate-style numbered rotation keeping 5 files: .5 is deleted, .4 → .5, … , live → .1
  const rotate = () => {
    rmSync(path + '.5', { force: true })
    for (let i = 4; i >= 1; i--) { try { renameSync(`${path}.${i}`, `${path}.${i + 1}`) } catch {} }
    renameSync(path, path + '.1')
    w.reopen()
  }
  for (let r = 0; r < 30; r++) {
    for (let k = 0; k < 5; k++) { w.write(10); await sleep(20) }
    rotate()
    if (r === 15) await restartAfterKill(ctx, () => { w.write(30) })
  }
  w.write(10)
  // Rotations deleted files older than .5: only lines in files that still exist, or that
  // daytwo read before their deletion, can be required. With 100 ms between rotations and
  // 20 ms polls every line is read in time; the ones written while daytwo was down are in
  // files that survive (the restart takes far less than five rotations).
  await expectExactlyOnce(ctx, w.lines)
})
