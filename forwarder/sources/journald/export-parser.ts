// journalctl's export format (systemd's docs/JOURNAL_EXPORT_FORMATS.md), parsed as it streams:
// an entry is fields, one after the other, ended by an empty line. A field is either
//   NAME=value\n                                  (text: a value without a newline), or
//   NAME\n <64-bit little-endian length> <bytes>\n (binary: newlines, non-UTF-8, anything).
// Only the fields asked for are kept, each up to its own byte limit: the rest of a long value
// is skipped as it streams by, never buffered, so a huge field costs no memory. Names are
// bounded too; what is not this format stops the parse with an error (journalctl then is
// restarted after the last entry read), rather than guessing where the next entry starts.

/** What one entry kept: the wanted fields' values (cut to their limit) and which were cut. */
export interface ExportEntry {
  fields: Map<string, Buffer>
  /** Names of kept fields whose value was longer than their limit (the kept value is the head). */
  cut: Set<string>
}

export class ExportFormatError extends Error {}

const NL = 0x0a
const EQ = 0x3d
const MAX_NAME = 256

type State = 'name' | 'text' | 'length' | 'binary' | 'binaryEnd'

export class ExportParser {
  private state: State = 'name'
  private name: Buffer[] = []
  private nameLen = 0
  private field = ''
  /** Bytes of the current value still to keep, and its kept parts. */
  private keep = 0
  private parts: Buffer[] = []
  private lenBytes: Buffer[] = []
  private lenHave = 0
  /** Bytes of a binary value still to read. */
  private remaining = 0
  private entry: ExportEntry = { fields: new Map(), cut: new Set() }
  private empty = true

  /** `limits`: the fields to keep and the longest value kept of each. */
  constructor (private readonly limits: ReadonlyMap<string, number>, private readonly onEntry: (e: ExportEntry) => void) {}

  /** Reset to the start of an entry (a new journalctl process): a partial entry is forgotten. */
  reset (): void {
    this.state = 'name'
    this.name = []
    this.nameLen = 0
    this.parts = []
    this.lenBytes = []
    this.lenHave = 0
    this.entry = { fields: new Map(), cut: new Set() }
    this.empty = true
  }

  /** Parse a chunk; throws ExportFormatError on bytes that are not the export format. */
  push (buf: Buffer): void {
    let i = 0
    const n = buf.length
    while (i < n) {
      switch (this.state) {
        case 'name': {
          let j = i
          while (j < n && buf[j] !== NL && buf[j] !== EQ) j++
          if (j - i + this.nameLen > MAX_NAME) throw new ExportFormatError(`a field name longer than ${MAX_NAME} bytes`)
          if (j > i) { this.name.push(buf.subarray(i, j)); this.nameLen += j - i }
          if (j === n) return
          const name = Buffer.concat(this.name, this.nameLen).toString('latin1')
          this.name = []
          this.nameLen = 0
          if (buf[j] === NL && name === '') {
            this.endEntry()
          } else if (name === '') {
            throw new ExportFormatError('a field without a name')
          } else {
            this.field = name
            this.keep = this.limits.get(name) ?? -1
            this.parts = []
            if (buf[j] === EQ) {
              this.state = 'text'
            } else {
              this.state = 'length'
              this.lenBytes = []
              this.lenHave = 0
            }
          }
          i = j + 1
          break
        }
        case 'text': {
          let j = buf.indexOf(NL, i)
          if (j === -1) j = n
          this.take(buf, i, j)
          if (j === n) return
          this.endField()
          this.state = 'name'
          i = j + 1
          break
        }
        case 'length': {
          const take = Math.min(8 - this.lenHave, n - i)
          this.lenBytes.push(buf.subarray(i, i + take))
          this.lenHave += take
          i += take
          if (this.lenHave < 8) return
          const len = Buffer.concat(this.lenBytes, 8).readBigUInt64LE(0)
          if (len > BigInt(Number.MAX_SAFE_INTEGER)) throw new ExportFormatError(`field ${this.field} claims ${len} bytes`)
          this.remaining = Number(len)
          this.state = this.remaining === 0 ? 'binaryEnd' : 'binary'
          break
        }
        case 'binary': {
          const take = Math.min(this.remaining, n - i)
          this.take(buf, i, i + take)
          this.remaining -= take
          i += take
          if (this.remaining === 0) this.state = 'binaryEnd'
          break
        }
        case 'binaryEnd':
          if (buf[i] !== NL) throw new ExportFormatError(`field ${this.field}: no newline after its binary value`)
          this.endField()
          this.state = 'name'
          i++
          break
      }
    }
  }

  /** Keep what fits of `buf[start, end)` in the current value; note a cut when something does not. */
  private take (buf: Buffer, start: number, end: number): void {
    if (this.keep < 0 || start === end) return
    const room = Math.min(this.keep, end - start)
    if (room > 0) { this.parts.push(Buffer.from(buf.subarray(start, start + room))); this.keep -= room }
    if (room < end - start) this.entry.cut.add(this.field)
  }

  private endField (): void {
    if (this.limits.has(this.field)) {
      this.entry.fields.set(this.field, this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts))
      this.empty = false
    }
    this.parts = []
  }

  private endEntry (): void {
    // journalctl writes nothing between entries but their empty line; two in a row are no entry.
    if (this.empty) return
    const e = this.entry
    this.entry = { fields: new Map(), cut: new Set() }
    this.empty = true
    this.onEntry(e)
  }
}
