// node dist/bench/regex.bench.js [lines] — LogQL regex cost per line on ordinary JSON log lines:
// compileRegex (re2js behind the literal screens) against re2js alone, V8's backtracking RegExp
// (what daytwo used before; not linear) and, when installed, re2-wasm (RE2 in WebAssembly).
import { RE2JS } from 're2js'
import { compileRegex } from '../core/regex.js'

const N = Number(process.argv[2] ?? 1_000_000)
const LEVELS = ['info', 'debug', 'warn', 'error']
const lines: string[] = []
for (let i = 0; i < N; i++) {
  lines.push(`{"ts":"2026-12-02T05:${String(i % 60).padStart(2, '0')}:00.${i % 1000}Z","level":"${LEVELS[i % 4]}","msg":"GET /api/v1/users/${i % 977} status=${i % 50 === 0 ? 503 : 200} took ${i % 300}ms","trace":"${((i * 2654435761) >>> 0).toString(16)}"}`)
}

// V8 is skipped where it backtracks (`.*.*.*#` is cubic per line).
const PATTERNS: Array<[string, boolean]> = [
  ['error', true], ['(?i)ERROR', true], ['status=5\\d\\d', true], ['users/(12|34)\\b', true],
  ['took [0-9]{3}ms', true], ['GET|POST', true], ['.*.*.*#', false]
]

interface Wasm { RE2: new (p: string, f: string) => { test: (s: string) => boolean } }
let wasm: Wasm | null = null
try {
  wasm = (await import('re2-wasm' as string)).default as Wasm
} catch {}

function time (fn: (s: string) => boolean): string {
  const t0 = process.hrtime.bigint()
  let n = 0
  for (const l of lines) if (fn(l)) n++
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  return `${ms.toFixed(0).padStart(6)} ms (${n})`
}

console.log(`${N} lines of ~190 bytes; time to test every line (matches)`)
console.log(`${'pattern'.padEnd(20)} ${'compileRegex'.padEnd(22)} ${'re2js alone'.padEnd(22)} ${'V8 RegExp'.padEnd(22)} re2-wasm`)
for (const [p, v8ok] of PATTERNS) {
  const ours = compileRegex(p, false)
  const plain = RE2JS.compile(p)
  const js = p.startsWith('(?i)') ? new RegExp(p.slice(4), 'i') : new RegExp(p)
  const cols = [time((s) => ours.test(s)), time((s) => plain.test(s)), v8ok ? time((s) => js.test(s)) : 'skipped (backtracks)']
  if (wasm !== null) {
    const w = new wasm.RE2(p, 'u')
    cols.push(time((s) => w.test(s)))
  } else {
    cols.push('not installed')
  }
  console.log(`${JSON.stringify(p).padEnd(20)} ${cols.map((c) => c.padEnd(22)).join(' ')}`)
}
