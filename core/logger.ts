import { pino, destination, type Logger } from 'pino'

export type { Logger } from 'pino'

/** daytwo's own log: JSON lines on stderr (stdout stays free for the CLI's output). */
export function createLogger (level: string, name = 'daytwo'): Logger {
  return pino({ name, level, base: { name } }, destination({ fd: 2, sync: false }))
}

export const silentLogger: Logger = pino({ level: 'silent' })
