import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { open, readdir } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { BundleWriter } from '../../cli/bundle-writer.js'
import { GzipAssembler, crc32, crc32Combine } from '../../cli/gzip-assembler.js'
import { extract } from '../helpers/bundle.js'
import { tempDir } from '../helpers/daytwo-process.js'

// The .tgz that `logs fetch` writes without staging files (cli/bundle-writer.ts,
// gzip-assembler.ts): one gzip member that gzip, GNU tar and zlib read back byte for byte.

test('crc32Combine gives the CRC-32 of the concatenation', () => {
  for (const [a, b] of [[0, 0], [1, 0], [0, 1], [5, 1000], [70_000, 3], [1, 200_000]] as const) {
    const x = randomBytes(a)
    const y = randomBytes(b)
    assert.equal(crc32Combine(crc32(x), crc32(y), y.length), crc32(Buffer.concat([x, y])), `${a}+${b}`)
  }
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926) // the check value of CRC-32/ISO-HDLC
})

test('stored pieces and compressed segments, in any size, make one gzip stream', async (t) => {
  const tmp = tempDir('daytwo-gz-')
  t.after(() => tmp.cleanup())
  const file = join(tmp.path, 'x.gz')
  const fh = await open(file, 'w')
  const gz = await GzipAssembler.create(fh)
  const want: Buffer[] = []
  const text = Buffer.from('2026-11-23T10:00:00Z GET /v2/apps 200 ünïcödé\n'.repeat(60_000)) // ~2.8 MB: several 1 MiB inputs
  const cases: Array<[Buffer, Buffer[]]> = [
    [Buffer.from('head one'), [text.subarray(0, 100)]],
    [randomBytes(70_000), [randomBytes(3), text, randomBytes(65_536 * 3)]], // a head over one stored block; random bytes do not compress
    [Buffer.alloc(0), []] // an empty segment behind an empty head
  ]
  for (const [head, body] of cases) {
    await gz.stored(Buffer.from('a folder header'))
    want.push(Buffer.from('a folder header'))
    const seg = gz.segment(head.length, 6)
    for (const b of body) await seg.write(b)
    await seg.end(head)
    want.push(head, ...body)
  }
  const tail = Buffer.alloc(1024)
  await gz.finish(tail)
  want.push(tail)
  await fh.close()
  assert.ok(gunzipSync(readFileSync(file)).equals(Buffer.concat(want)), 'zlib reads back the pieces in order')
  execFileSync('gzip', ['-t', file]) // CRC and length checked by gzip itself
})

test('a bundle: folders before their files, long and non-ASCII names, files of any size', async (t) => {
  const tmp = tempDir('daytwo-bundle-')
  t.after(() => tmp.cleanup())
  const long = 'x'.repeat(140) + '.log'
  const files: Array<[{ job: string, index: string, process: string, path: string }, Buffer]> = [
    [{ job: 'router', index: '0', process: 'gorouter', path: '/var/vcap/sys/log/gorouter/access.log' }, Buffer.from('GET /\n'.repeat(500_000))],
    [{ job: 'router', index: '0', process: 'gorouter', path: '/var/vcap/sys/log/gorouter/empty-line.log' }, Buffer.from('\n')],
    [{ job: 'router', index: '0', process: 'ünïcödé', path: '/var/log/ünïcödé/✓.log' }, Buffer.from('✓ ok\n')],
    [{ job: 'router', index: '1', process: 'p', path: '/x/' + long }, randomBytes(1 << 20)],
    [{ job: 'router', index: '1', process: 'p', path: '/x/512.log' }, Buffer.alloc(512, 'a')]
  ]
  const w = await BundleWriter.create(join(tmp.path, 'out'), 'b.tgz')
  for (const [s, bytes] of files) {
    // In frames of uneven size, as they arrive.
    for (let i = 0; i < bytes.length; i += 100_003) {
      await w.frame(s, 1)
      await w.writeBytes(bytes.subarray(i, i + 100_003))
    }
  }
  const tgz = await w.finish()
  assert.deepEqual(await readdir(join(tmp.path, 'out')), ['b.tgz'])
  execFileSync('gzip', ['-t', tgz])
  const listing = execFileSync('tar', ['tzvf', tgz, '--quoting-style=literal'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(/\s+/))
  assert.deepEqual(listing.map((l) => l.slice(5).join(' ')), [
    'router.0/', 'router.0/gorouter/', 'router.0/gorouter/access.log', 'router.0/gorouter/empty-line.log',
    'router.0/ünïcödé/', 'router.0/ünïcödé/✓.log', 'router.1/', 'router.1/p/', `router.1/p/${long}`, 'router.1/p/512.log'
  ])
  // As node-tar's portable mode writes them: no owner, folders 0755, files 0644.
  for (const l of listing) assert.equal(`${l[0]} ${l[1]}`, l[5]!.endsWith('/') ? 'drwxr-xr-x 0/0' : '-rw-r--r-- 0/0', l[5])
  const got = extract(tgz, join(tmp.path, 'x'))
  for (const [s, bytes] of files) {
    const rel = `${s.job}.${s.index}/${s.process}/${s.path.split('/').pop()!}`
    assert.ok(got.get(rel)?.equals(bytes), rel)
  }
  assert.equal(got.size, files.length)
})

test('abort leaves nothing behind', async (t) => {
  const tmp = tempDir('daytwo-bundle-')
  t.after(() => tmp.cleanup())
  const w = await BundleWriter.create(tmp.path, 'b.tgz')
  await w.frame({ job: 'j', index: '0', process: 'p', path: '/a.log' }, 1)
  await w.writeBytes(randomBytes(3 << 20))
  await w.abort()
  assert.deepEqual(await readdir(tmp.path), [])
})
