// Comparing a run of bytes against a known one four bytes at a time (DataView reads compile
// to single loads), for the hot paths that check whether a record or header repeats the last.

/** Bytes to look for, also as little-endian 32-bit words. */
export interface Pattern { bytes: Buffer, words: Uint32Array }

export function pattern (bytes: Buffer): Pattern {
  const words = new Uint32Array(bytes.length >> 2)
  for (let i = 0; i < words.length; i++) words[i] = bytes.readUInt32LE(i * 4)
  return { bytes, words }
}

/** A DataView over exactly the bytes of `buf`. */
export function viewOf (buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length)
}

/** Whether buf[at, at + p.bytes.length) is p; `view` is viewOf(buf), and the range is inside buf. */
export function matches (view: DataView, buf: Buffer, at: number, p: Pattern): boolean {
  const w = p.words
  let k = 0
  for (let i = 0; i < w.length; i++, k += 4) if (view.getUint32(at + k, true) !== w[i]) return false
  const b = p.bytes
  for (; k < b.length; k++) if (buf[at + k] !== b[k]) return false
  return true
}
