// A Loki protobuf push names a stream by its label set as text, `{app="cart", pod="x-1"}`:
// Prometheus' labels.String(), values quoted as Go's strconv.Quote does (\" \\ \n \t \xHH
// \uHHHH …), which Loki reads back with its LogQL parser. That parser lives in the query role
// (query/loki/), which the collector may not import, and no npm package reads this format on
// its own, so this small reader does: names are identifiers (or quoted, Prometheus 3's UTF-8
// names), values Go strings in "…" or `…`.

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y
const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" }

/** `{name="value", …}` → labels; throws an Error saying where the text is wrong. */
export function parseLabelSet (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  let p = 0
  const space = () => { while (p < text.length && (text[p] === ' ' || text[p] === '\t' || text[p] === '\n')) p++ }
  const fail = (why: string): never => { throw new Error(`${why} at character ${p} of ${JSON.stringify(text.length > 200 ? text.slice(0, 200) + '…' : text)}`) }
  space()
  if (text[p] !== '{') fail('expected {')
  p++
  space()
  while (text[p] !== '}') {
    let name: string
    if (text[p] === '"' || text[p] === '`') {
      name = quoted()
    } else {
      NAME.lastIndex = p
      const m = NAME.exec(text)
      if (m === null) fail('expected a label name')
      name = m![0]
      p += name.length
    }
    space()
    if (text[p] !== '=') fail(`expected = after ${name}`)
    p++
    space()
    if (text[p] !== '"' && text[p] !== '`') fail(`expected a quoted value for ${name}`)
    out[name] = quoted()
    space()
    if (text[p] === ',') { p++; space() } else if (text[p] !== '}') fail('expected , or }')
  }
  p++
  space()
  if (p !== text.length) fail('text after }')
  return out

  function quoted (): string {
    const q = text[p]!
    p++
    if (q === '`') {
      const end = text.indexOf('`', p)
      if (end < 0) fail('unterminated `string')
      const s = text.slice(p, end)
      p = end + 1
      return s
    }
    let s = ''
    let bytes: number[] = []
    // \xHH and octal escapes are bytes (Go quotes invalid UTF-8 so); consecutive ones are one UTF-8 sequence.
    const flush = () => { if (bytes.length > 0) { s += Buffer.from(bytes).toString('utf8'); bytes = [] } }
    for (;;) {
      if (p >= text.length) fail('unterminated string')
      const c = text[p]!
      if (c === '"') { p++; flush(); return s }
      if (c !== '\\') { flush(); s += c; p++; continue }
      const e = text[p + 1]
      if (e === undefined) fail('unterminated escape')
      if (e === 'x' || (e! >= '0' && e! <= '7')) {
        const hex = e === 'x'
        const digits = text.slice(p + (hex ? 2 : 1), p + (hex ? 4 : 4))
        if (!(hex ? /^[0-9a-fA-F]{2}$/ : /^[0-7]{3}$/).test(digits)) fail('bad byte escape')
        bytes.push(parseInt(digits, hex ? 16 : 8))
        p += hex ? 4 : 4
        continue
      }
      flush()
      if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8
        const digits = text.slice(p + 2, p + 2 + n)
        const cp = /^[0-9a-fA-F]+$/.test(digits) && digits.length === n ? parseInt(digits, 16) : -1
        if (cp < 0 || cp > 0x10ffff) fail('bad unicode escape')
        s += String.fromCodePoint(cp)
        p += 2 + n
        continue
      }
      const simple = SIMPLE_ESCAPES[e!]
      if (simple === undefined) fail(`unknown escape \\${e}`)
      s += simple
      p += 2
    }
  }
}
