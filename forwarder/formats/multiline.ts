// Joins the lines of one record that an application wrote over several lines — stack
// traces above all — into one message. Each preset says which lines continue the record
// before them; a custom rule says which lines start one. A record ends at the next start
// line, at a change of stdio stream, after `maxLines`, or after `flushMs` without a line.

export type Preset = 'java' | 'go' | 'python' | 'custom'

/** Decides, line by line, whether a line continues the record before it. */
export type Continuation = (line: string) => boolean

const JAVA_CONT = /^(\s|Caused by:|Suppressed:|\.\.\. \d+ (more|common frames omitted)|[\w$]+(\.[\w$]+)+(Exception|Error|Throwable)(: .*)?$)/

/**
 * Java/JVM: indented `at …` frames, `… N more`, `Caused by:`, `Suppressed:`, and the
 * exception's own `java.lang.IllegalStateException: …` line that loggers print, unindented,
 * after the message line.
 */
function java (): Continuation {
  return (line) => JAVA_CONT.test(line)
}

const PY_EXC = /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning|Iteration)?(: .*)?$/

/** Python: a traceback and the exception line that ends it (and chained tracebacks). */
function python (): Continuation {
  let state: 'none' | 'trace' | 'after' = 'none'
  return (line) => {
    if (line.startsWith('Traceback (most recent call last):')) { state = 'trace'; return true }
    if (state === 'trace') {
      if (/^\s/.test(line) || line === '') return true
      if (PY_EXC.test(line)) { state = 'after'; return true }
      state = 'none'
      return false
    }
    if (state === 'after') {
      if (line === '' || line.startsWith('During handling of the above exception') || line.startsWith('The above exception was the direct cause')) {
        if (line !== '') state = 'trace'
        return true
      }
      state = 'none'
    }
    return false
  }
}

const GO_CONT = /^(\s|goroutine \d+ \[|created by |\[signal |exit status \d+$|[\w./*()-]+\(.*\)$|$)/

/** Go: what follows `panic:` or `fatal error:` — goroutine headers, frames, blank lines. */
function go (): Continuation {
  let inPanic = false
  return (line) => {
    if (line.startsWith('panic: ') || line.startsWith('fatal error: ')) {
      const cont = inPanic // `panic: … [recovered]` chains continue the record
      inPanic = true
      return cont
    }
    if (inPanic && GO_CONT.test(line)) return true
    inPanic = false
    return false
  }
}

export function continuation (preset: Preset, start: string): Continuation {
  switch (preset) {
    case 'java': return java()
    case 'python': return python()
    case 'go': return go()
    case 'custom': {
      const re = new RegExp(start)
      return (line) => !re.test(line)
    }
  }
}

export interface Piece {
  ts: string
  stdio: string
  message: string
  truncated: boolean
  offset: number
  /** Where reading must resume so that this piece is read again. */
  resume: number
}

export class MultilineJoiner {
  private pending: Piece[] = []
  private bytes = 0
  private lastMs = 0

  constructor (private readonly isContinuation: Continuation, private readonly maxLines: number, private readonly maxBytes: number, private readonly flushMs: number) {}

  /** Feed one record; returns the records that are complete now. */
  add (p: Piece, nowMs: number, out: Piece[]): void {
    const cont = this.isContinuation(p.message)
    if (this.pending.length > 0 && (!cont || p.stdio !== this.pending[0]!.stdio || this.pending.length >= this.maxLines)) this.flush(out)
    this.pending.push(p)
    this.bytes += p.message.length + 1
    this.lastMs = nowMs
    if (this.bytes >= this.maxBytes) this.flush(out)
  }

  /** Ship a pending record that waited `flushMs` for a continuation. */
  flushIdle (nowMs: number, out: Piece[]): void {
    if (this.pending.length > 0 && nowMs - this.lastMs >= this.flushMs) this.flush(out)
  }

  get pendingSince (): number { return this.pending.length > 0 ? this.lastMs : 0 }

  /** The offset a restart must resume at so that no pending line is lost. */
  safeOffset (fallback: number): number {
    return this.pending.length > 0 ? Math.min(fallback, this.pending[0]!.resume) : fallback
  }

  flush (out: Piece[]): void {
    const p = this.pending
    if (p.length === 0) return
    const first = p[0]!
    let message = first.message
    let truncated = first.truncated
    for (let i = 1; i < p.length; i++) { message += '\n' + p[i]!.message; truncated ||= p[i]!.truncated }
    if (message.length > this.maxBytes) { message = message.slice(0, this.maxBytes); truncated = true }
    out.push({ ts: first.ts, stdio: first.stdio, message, truncated, offset: first.offset, resume: first.resume })
    this.pending = []
    this.bytes = 0
  }
}
