// Nanosecond timestamps <-> the ISO strings Elasticsearch's `date_nanos` takes and returns.
// The wire carries Unix ns as a decimal string; we never go through a JS number so the nine
// fractional digits survive (docs/architecture.md "The record").

let cachedSec = ''
let cachedPrefix = ''

/** `1700000000123456789` → `2023-11-14T22:13:20.123456789Z`. */
export function nsToIso (ns: string): string {
  let sec: string
  let frac: string
  if (ns.length > 9 && ns.charCodeAt(0) !== 45 /* - */) {
    // Fast path: split the digits, and reuse the formatted second (consecutive lines share it).
    sec = ns.slice(0, -9)
    frac = ns.slice(-9)
  } else {
    const n = BigInt(ns)
    let s = n / 1_000_000_000n
    let f = n % 1_000_000_000n
    if (f < 0n) { s -= 1n; f += 1_000_000_000n }
    sec = s.toString()
    frac = f.toString().padStart(9, '0')
  }
  if (sec !== cachedSec) {
    cachedPrefix = new Date(Number(sec) * 1000).toISOString().slice(0, -5)
    cachedSec = sec
  }
  return cachedPrefix + '.' + frac + 'Z'
}

const ISO_RE = /^(.*T\d\d:\d\d:\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)$/

/** The inverse of nsToIso; also accepts fewer fractional digits and offsets. */
export function isoToNs (iso: string): string {
  const m = ISO_RE.exec(iso)
  if (!m) {
    const ms = Date.parse(iso)
    if (Number.isNaN(ms)) throw new Error(`not a timestamp: ${iso}`)
    return (BigInt(ms) * 1_000_000n).toString()
  }
  const sec = Date.parse(m[1] + (m[3] === 'Z' ? 'Z' : m[3]!)) / 1000
  const frac = (m[2] ?? '').padEnd(9, '0')
  return (BigInt(sec) * 1_000_000_000n + BigInt(frac)).toString()
}
