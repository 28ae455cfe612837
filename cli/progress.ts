/** A one-line progress report on a terminal's stderr; nothing when stderr is not a TTY. */
export class Progress {
  private last = 0
  private readonly enabled: boolean
  constructor (private readonly label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = stream.isTTY === true
    this.stream = stream
  }

  private readonly stream: NodeJS.WriteStream

  update (lines: number, bytes: number, force = false): void {
    if (!this.enabled) return
    const now = Date.now()
    if (!force && now - this.last < 100) return
    this.last = now
    this.stream.write(`\r${this.label}: ${lines.toLocaleString('en')} lines, ${formatBytes(bytes)}\x1b[K`)
  }

  done (): void { if (this.enabled) this.stream.write('\n') }
}

export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  let v = n
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}
