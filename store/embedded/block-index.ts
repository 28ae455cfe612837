// Placeholder until the block index lands: no block can be ruled out.
export function bloomMayContain (_bloom: Buffer, _needle: Buffer): boolean {
  return true
}

/** A block's summary: lines and message bytes per (stdio, level) cell, [lines, bytes] pairs. */
export function decodeSummary (b: Buffer): Float64Array {
  const copy = new Uint8Array(b.byteLength)
  copy.set(b)
  return new Float64Array(copy.buffer)
}
