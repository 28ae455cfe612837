import { uncompress } from 'snappy'
import { DaytwoError } from '../../../core/errors.js'
import { InflateError, type InflateBudget } from '../../inflate.js'

// Loki's protobuf bodies are snappy's block format (not the framed one), as Promtail, Alloy and
// winston-loki send them. The block starts with its uncompressed length as a varint, so the
// bounds of collector/inflate.ts (maxBodyBytes once decompressed, the budget shared by every
// request in flight) are checked on that number before anything is allocated; the decoder
// then refuses a block whose content does not match its length.
// The `snappy` package (napi-rs: Rust's `snap` crate, prebuilt per platform in the npm
// registry, also what winston-loki uses) decompresses on libuv's thread pool, off the event
// loop; the pure-JS snappyjs would decode a 10 MB body on it.

/** The uncompressed length a snappy block states, or -1 when its varint is cut or too long. */
export function snappyLength (block: Buffer): number {
  let n = 0
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!
    n += (b & 0x7f) * 2 ** (7 * i)
    if ((b & 0x80) === 0) return n <= 0xffffffff ? n : -1
  }
  return -1
}

/** Decompress a snappy block within `limit` bytes and `budget`; `release` gives the budget back. Throws InflateError. */
export async function unsnappy (block: Buffer, limit: number, budget: InflateBudget): Promise<{ body: Buffer, release: () => void }> {
  const n = snappyLength(block)
  if (n < 0) throw new InflateError('malformed', new DaytwoError('BAD_BATCH', 'snappy: the block does not start with its length'))
  if (n > limit) throw new InflateError('too_large', new DaytwoError('BATCH_TOO_LARGE', String(limit)))
  if (!budget.take(n)) throw new InflateError('busy', new DaytwoError('INFLATE_BUSY'))
  let held = n
  const release = () => { budget.give(held); held = 0 }
  try {
    const body = await uncompress(block, { asBuffer: true }) as Buffer
    return { body, release }
  } catch (err) {
    release()
    throw new InflateError('malformed', new DaytwoError('BAD_BATCH', `snappy: ${(err as Error).message}`))
  }
}
