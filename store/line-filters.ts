import { compileRegex } from '../core/regex.js'
import type { LineFilter } from './select-params.js'

// LogQL line filters on a message's bytes, in place. A `|=` or `!=` needle is searched once
// through the whole block (Buffer#indexOf) and its next occurrence remembered, so a block
// costs one pass whatever the number of lines, and a block without the needle ends at the
// first search. Regex filters decode only the lines that reach them.

export interface BytesFilter {
  /** Forget the remembered occurrence: the next test is in a new buffer. */
  reset (): void
  /**
   * Whether message bytes [start, end) pass: 1 yes, 0 no, -1 no and neither will any later
   * line of this buffer (a `|=` needle that does not occur again).
   */
  test (b: Buffer, start: number, end: number): 1 | 0 | -1
}

/** Needles of literal filters, for block indexes that can rule a block out (`|=` only). */
export function requiredNeedles (filters: LineFilter[]): Buffer[] {
  return filters.filter((f) => f.op === '|=' && f.value !== '').map((f) => Buffer.from(f.value))
}

export function compileLineFilters (filters: LineFilter[]): BytesFilter[] {
  return filters.map((f) => {
    if (f.op === '|=' || f.op === '!=') return new Contains(Buffer.from(f.value), f.op === '|=')
    const re = compileRegex(f.value, false)
    const want = f.op === '|~'
    return { reset () {}, test: (b, s, e) => re.test(b.toString('utf8', s, e)) === want ? 1 : 0 }
  })
}

class Contains implements BytesFilter {
  private next = -2
  constructor (private readonly needle: Buffer, private readonly want: boolean) {}

  reset (): void { this.next = -2 }

  test (b: Buffer, start: number, end: number): 1 | 0 | -1 {
    const n = this.needle.length
    if (n === 0) return this.want ? 1 : 0
    // The first occurrence at or after `start`: if it does not end inside this message, no
    // other occurrence does (any other starts later).
    if (this.next !== -1 && this.next < start) this.next = b.indexOf(this.needle, start)
    if (this.next === -1) return this.want ? -1 : 1
    const found = this.next + n <= end
    return found === this.want ? 1 : 0
  }
}
