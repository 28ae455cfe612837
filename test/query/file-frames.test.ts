import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Entry, StreamTags } from '../../core/record.js'
import { encodeEndFrame, encodeFileFrame, fileFrames } from '../../core/file-frames.js'

// The bundle framing of GET /api/v1/logs (core/file-frames.ts): what the server encodes,
// the CLI reads back byte for byte however the network cuts it, and a garbled or short body
// is an error, never a smaller bundle.

const tags = (path: string): StreamTags => ({ id: 's-' + path, source: 'file', node: 'vm', deployment: 'cf', job: 'router', index: '0', process: 'gorouter', path })
const entries = (msgs: string[]): Entry[] => msgs.map((m, i) => ['1795000000000000000', i, m, 'stdout'])

const A = ['plain', '', 'ünïcödé ✓ "quoted" {"json":true}', 'tab\there', 'x'.repeat(3000)]
const B = ['second file', '\u{1F600} four bytes', 'back\\slash']

function body (): Buffer {
  const f1 = encodeFileFrame(JSON.stringify(tags('/a/access.log')), entries(A.slice(0, 2)))
  const f2 = encodeFileFrame(JSON.stringify(tags('/a/access.log')), entries(A.slice(2)))
  const f3 = encodeFileFrame(JSON.stringify(tags('/b/other.log')), entries(B))
  const lines = A.length + B.length
  return Buffer.from(f1.text + f2.text + f3.text + encodeEndFrame(lines, f1.bytes + f2.bytes + f3.bytes))
}

async function * chunks (buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size)
}

/** Read a body back into file name → bytes, and the frame count. */
async function read (src: AsyncIterable<Buffer>): Promise<{ files: Map<string, Buffer>, frames: number, lines: number }> {
  const files = new Map<string, Buffer>()
  let current = ''
  let frames = 0
  let lines = 0
  for await (const ev of fileFrames(src)) {
    if (ev.kind === 'frame') {
      current = ev.stream.path
      frames++
      lines += ev.lines
    } else {
      files.set(current, Buffer.concat([files.get(current) ?? Buffer.alloc(0), ev.chunk]))
    }
  }
  return { files, frames, lines }
}

const want = (msgs: string[]) => Buffer.from(msgs.map((m) => m + '\n').join(''))

test('every file comes back byte for byte, however the body is cut into chunks', async () => {
  const buf = body()
  for (const size of [1, 2, 3, 7, 64, 100, 1000, buf.length]) {
    const got = await read(chunks(buf, size))
    assert.equal(got.frames, 3, `chunks of ${size}`)
    assert.equal(got.lines, A.length + B.length)
    assert.deepEqual(got.files.get('/a/access.log'), want(A), `chunks of ${size}`)
    assert.deepEqual(got.files.get('/b/other.log'), want(B), `chunks of ${size}`)
  }
})

test('a frame counts bytes, not characters', () => {
  const f = encodeFileFrame('{}', entries(['é', '\u{1F600}']))
  assert.equal(f.bytes, 2 + 1 + 4 + 1)
  assert.ok(f.text.startsWith('{"stream":{},"lines":2,"bytes":8}\n'))
})

test('a body cut short, garbled, or whose totals disagree is an error', async () => {
  const buf = body()
  const endAt = buf.lastIndexOf('{"end"')
  const cases: Array<[Buffer, RegExp]> = [
    [buf.subarray(0, 100), /ended in the middle of a frame/],
    [buf.subarray(0, endAt), /ended without its end frame/],
    [buf.subarray(0, endAt + 5), /ended in the middle of a frame/],
    [Buffer.concat([buf.subarray(0, endAt), Buffer.from(encodeEndFrame(1, 2))]), /announced 1 lines \(2 bytes\) and sent 8/],
    [Buffer.concat([buf, Buffer.from('x')]), /bytes after the end frame/],
    [Buffer.from('not json\n'), /a frame header is not JSON/],
    [Buffer.from('{"stream":{"job":"r"},"lines":1,"bytes":2}\nx\n'), /must name its stream/],
    [Buffer.from('{"stream":' + JSON.stringify(tags('/x')) + ',"lines":1,"bytes":-2}\n'), /must carry lines and bytes/],
    [Buffer.alloc(100 * 1024, 'a'), /longer than 65536 bytes/]
  ]
  for (const [b, re] of cases) {
    await assert.rejects(read(chunks(b, 13)), (err: Error & { code?: string }) => {
      assert.match(err.message, re)
      assert.equal(err.code, 'DAYTWO_ERR_BAD_BATCH')
      return true
    }, re.source)
  }
})

test('a body that fails says the connection was cut', async () => {
  async function * failing (): AsyncGenerator<Buffer> {
    yield body().subarray(0, 50)
    throw new Error('aborted')
  }
  await assert.rejects(read(failing()), /the connection was cut \(aborted\)/)
})
