import assert from 'node:assert/strict'
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { test } from 'node:test'
import { SampleSet } from '../../core/metric-samples.js'
import type { StreamTags } from '../../core/record.js'
import { BoshProcesses } from '../../forwarder/node-metrics/bosh-processes.js'
import { collectFilesystems } from '../../forwarder/node-metrics/filesystems.js'
import { Kubelet } from '../../forwarder/node-metrics/kubelet.js'
import { LogCounts } from '../../forwarder/node-metrics/log-counts.js'
import { StreamHandle } from '../../forwarder/shipper.js'
import { tempDir, waitFor } from '../helpers/daytwo-process.js'

const id = ['cf', 'diego', '0']
const value = (s: SampleSet, family: keyof SampleSet['samples'], ...extra: string[]) =>
  s.samples[family]?.find(([l]) => extra.every((e, i) => l[3 + i] === e))?.[1]

function sleeper (): ChildProcess { return spawn('sleep', ['60'], { stdio: 'ignore' }) }

test('BOSH pid files: a running process is up with CPU, RSS and start time; a new pid is a restart', async (t) => {
  const dir = tempDir()
  const procs: ChildProcess[] = []
  t.after(() => { for (const p of procs) p.kill('SIGKILL'); dir.cleanup() })
  mkdirSync(join(dir.path, 'rep'))
  const pidfile = join(dir.path, 'rep', 'rep.pid')
  const a = sleeper(); procs.push(a)
  writeFileSync(pidfile, `${a.pid}\n`)
  const bosh = new BoshProcesses(dir.path, '/proc')
  let s = new SampleSet()
  assert.deepEqual(await bosh.collect(id, 0, s), [])
  assert.equal(value(s, 'daytwo_job_process_up', 'rep', 'rep'), 1)
  assert.equal(value(s, 'daytwo_job_process_restarts_total', 'rep', 'rep'), 0)
  assert.ok(value(s, 'daytwo_job_process_resident_memory_bytes', 'rep', 'rep')! > 0)
  // ps agrees on the resident size (kB), read independently.
  const psRss = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(a.pid)]).toString().trim()) * 1024
  assert.equal(value(s, 'daytwo_job_process_resident_memory_bytes', 'rep', 'rep'), psRss)

  const b = sleeper(); procs.push(b)
  writeFileSync(pidfile, `${b.pid}\n`)
  s = new SampleSet()
  const events = await bosh.collect(id, 0, s)
  assert.deepEqual(events.map((e) => [e.kind, e.oldPid, e.newPid]), [['process_restart', a.pid, b.pid]])
  assert.equal(value(s, 'daytwo_job_process_restarts_total', 'rep', 'rep'), 1)

  b.kill('SIGKILL')
  await waitFor(() => { try { process.kill(b.pid!, 0); return false } catch { return true } })
  s = new SampleSet()
  await bosh.collect(id, 0, s)
  assert.equal(value(s, 'daytwo_job_process_up', 'rep', 'rep'), 0)
})

test('filesystems: the data dir is reported with the size df reports', async (t) => {
  const dir = tempDir()
  t.after(() => dir.cleanup())
  const s = new SampleSet()
  await collectFilesystems({ procPath: '/proc', fsTypeExclude: /^(proc|sysfs)$/, mountPointExclude: /^\/(proc|sys)/, paths: { data_dir: dir.path, bosh_log_root: '' } }, id, s)
  const df = execFileSync('df', ['-B1', '--output=size', dir.path]).toString().trim().split('\n')[1]!.trim()
  assert.equal(value(s, 'daytwo_node_path_size_bytes', 'data_dir', dir.path), Number(df))
  assert.ok(s.samples.daytwo_node_filesystem_size_bytes!.some(([l]) => l[3] === '/'), 'the root mount')
})

test('log counts: a truncated file and a rotated file at a known path are told apart', async (t) => {
  const dir = tempDir()
  t.after(() => dir.cleanup())
  const path = join(dir.path, 'rep.stdout.log')
  writeFileSync(path, 'first\n')
  const counts = new LogCounts(10)
  const handle = (sid: string) => new StreamHandle({ id: sid, source: 'file', node: 'n', deployment: 'cf', job: 'diego', index: '0', process: 'rep', path } satisfies StreamTags, () => {})
  counts.observe(handle('g0'), '', 'ERROR one', 9, undefined)
  await new Promise((resolve) => setTimeout(resolve, 50)) // the path's inode is read asynchronously
  truncateSync(path, 0)
  counts.observe(handle('g1'), '', 'INFO two', 8, undefined)
  await waitFor(() => counts.takeEvents().some((e) => e.kind === 'file_truncated'), 2000, 10)
  renameSync(path, path + '.1')
  writeFileSync(path, 'new file\n')
  counts.observe(handle('g2'), '', 'WARN three', 10, undefined)
  await waitFor(() => counts.takeEvents().some((e) => e.kind === 'file_rotated'), 2000, 10)
  const s = new SampleSet()
  const instances = counts.collect(s, 60000)
  assert.deepEqual(instances.map((i) => i.job), ['diego'])
  assert.equal(value(s, 'daytwo_log_lines_total', 'rep', 'stdout'), 3)
  assert.equal(value(s, 'daytwo_log_file_truncations_total', 'rep'), 1)
  assert.equal(value(s, 'daytwo_log_file_rotations_total', 'rep'), 1)
  for (const level of ['error', 'info', 'warn']) assert.equal(value(s, 'daytwo_log_lines_by_level_total', 'rep', 'stdout', level), 1, level)
})

test('kubelet: pods become instances with the token presented; refused or unreachable kubelets are skipped quietly', async (t) => {
  const dir = tempDir()
  const tokenFile = join(dir.path, 'token')
  writeFileSync(tokenFile, 'sekret\n')
  // The shape of a kubelet /stats/summary answer (trimmed to what daytwo reads).
  const summary = { node: { nodeName: 'n' }, pods: [
    { podRef: { name: 'db-2', namespace: 'data', uid: 'u1' }, containers: [{ name: 'postgres', cpu: { usageCoreNanoSeconds: 2_500_000_000 }, memory: { workingSetBytes: 1000, rssBytes: 800 } }] },
    { podRef: { name: 'web-7d9f8b6c5-x2x4z', namespace: 'shop', uid: 'u2' }, containers: [{ name: 'nginx', cpu: { usageCoreNanoSeconds: 1e9 }, memory: { workingSetBytes: 50 } }] }
  ] }
  const server = createServer((req, res) => {
    if (req.headers.authorization !== 'Bearer sekret') { res.writeHead(401).end(); return }
    if (req.url !== '/stats/summary') { res.writeHead(404).end(); return }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(summary))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => { server.close(); dir.cleanup() })
  const port = (server.address() as { port: number }).port
  const opts = { url: `http://127.0.0.1:${port}`, tokenFile, caFile: '', insecureSkipVerify: false, timeoutMs: 2000 }

  let s = new SampleSet()
  const pods = await new Kubelet(opts).collect(id, s)
  assert.deepEqual(pods, [{ deployment: 'data', job: 'db', index: '2' }, { deployment: 'shop', job: 'web', index: 'x2x4z' }])
  assert.deepEqual(s.samples.daytwo_pod_container_cpu_seconds_total, [[['data', 'db', '2', 'postgres'], 2.5], [['shop', 'web', 'x2x4z', 'nginx'], 1]])
  assert.deepEqual(s.samples.daytwo_node_kubelet_up, [[id, 1]])

  writeFileSync(tokenFile, 'wrong\n')
  s = new SampleSet()
  const refused = new Kubelet(opts)
  assert.equal(await refused.collect(id, s), null)
  assert.match(refused.lastError!, /401/)
  assert.deepEqual(s.samples.daytwo_node_kubelet_up, [[id, 0]])

  s = new SampleSet()
  assert.equal(await new Kubelet({ ...opts, url: 'http://127.0.0.1:1' }).collect(id, s), null)
  assert.deepEqual(s.samples.daytwo_node_kubelet_up, [[id, 0]])
  assert.equal(await new Kubelet({ ...opts, url: '' }).collect(id, s), null, 'off when no URL')
})
