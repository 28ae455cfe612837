import { once } from 'node:events'
import { basename } from 'node:path'
import type { StreamBatch } from '../core/record.js'
import { terminalLine, terminalSafe } from './terminal-text.js'

/**
 * Lines to a stream (stdout), like `bosh logs -f`: each prefixed with where it comes from,
 * `<job>/<index> <process>/<file>: `, unless `prefix` is off. The names in the prefix have
 * their control characters escaped (terminal-text.ts); the lines too when the stream is a
 * terminal. Piped or redirected, lines stay byte for byte what the program wrote.
 */
export class TextWriter {
  lines = 0
  bytes = 0
  private broken = false
  private readonly tty: boolean

  constructor (private readonly out: NodeJS.WritableStream, private readonly prefix: boolean) {
    this.tty = (out as { isTTY?: boolean }).isTTY === true
    // `logs fetch … | head`: a closed pipe ends the output quietly.
    out.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') this.broken = true; else throw err })
  }

  get closed (): boolean { return this.broken }

  static prefixOf (s: { job: string, index: string, process: string, path: string }): string {
    return terminalSafe(`${s.job}/${s.index} ${s.process}/${basename(s.path)}`) + ': '
  }

  async write (g: StreamBatch): Promise<void> {
    if (this.broken) return
    const p = this.prefix ? TextWriter.prefixOf(g.stream) : ''
    let chunk = ''
    if (this.tty) for (const e of g.entries) chunk += p + terminalLine(e[2]) + '\n'
    else for (const e of g.entries) chunk += p + e[2] + '\n'
    this.lines += g.entries.length
    this.bytes += Buffer.byteLength(chunk)
    if (!this.out.write(chunk)) await Promise.race([once(this.out, 'drain'), once(this.out, 'error')])
  }
}
