// The level of a log line, found cheaply (this runs for every line the forwarder reads):
//   JSON      {"level":"error"} {"level":50} (pino/bunyan numbers) {"severity":"WARNING"} {"lvl":…}
//   logfmt    level=warn lvl=ERROR severity=info
//   prefixes  ERROR …, [WARN] …, 2024-05-01T10:00:00Z INFO …, E0501 10:00:00.000 … (klog/glog)
//   syslog    a numeric severity (RFC 5424) or its keyword, from the stream's labels
// Only the head of a line is looked at; a line with none of these is `unknown`.

import type { Level } from '../../core/metric-samples.js'

const HEAD = 256
const PREFIX_HEAD = 80

const WORDS: Record<string, Level> = {
  fatal: 'fatal', panic: 'fatal', critical: 'fatal', crit: 'fatal', emerg: 'fatal', emergency: 'fatal', alert: 'fatal', dpanic: 'fatal',
  error: 'error', err: 'error', eror: 'error',
  warn: 'warn', warning: 'warn', wrn: 'warn',
  info: 'info', information: 'info', informational: 'info', notice: 'info', inf: 'info',
  debug: 'debug', dbg: 'debug',
  trace: 'trace', trc: 'trace', verbose: 'trace'
}

/** pino / bunyan numeric levels. */
function numeric (n: number): Level {
  if (n >= 60) return 'fatal'
  if (n >= 50) return 'error'
  if (n >= 40) return 'warn'
  if (n >= 30) return 'info'
  if (n >= 20) return 'debug'
  if (n >= 10) return 'trace'
  return 'unknown'
}

/** RFC 5424 severity 0–7. */
export function syslogSeverity (s: string): Level {
  if (/^\d$/.test(s)) return (['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'] as const)[Number(s)]!
  return WORDS[s.toLowerCase()] ?? 'unknown'
}

const JSON_KEY = /"(?:level|lvl|severity|log\.level|loglevel)"\s*:\s*(?:"([A-Za-z]+)|(\d+))/
const LOGFMT_KEY = /(?:^|\s)(?:level|lvl|severity)="?([A-Za-z]+)/
const PREFIX_WORD = /(?:^|[\s[<|:(])(FATAL|PANIC|CRITICAL|CRIT|EMERG|ALERT|ERROR|ERR|WARNING|WARN|NOTICE|INFO|DEBUG|TRACE|Fatal|Error|Warning|Warn|Info|Debug)(?=$|[\s\]>|:)-])/
const KLOG = /^([IWEF])\d{4} \d\d:\d\d:\d\d/
const KLOG_LEVELS: Record<string, Level> = { I: 'info', W: 'warn', E: 'error', F: 'fatal' }

export function detectLevel (message: string): Level {
  const c0 = message.charCodeAt(0)
  if (c0 === 0x7b /* { */) {
    const m = JSON_KEY.exec(message.length > HEAD ? message.slice(0, HEAD) : message)
    if (m !== null) return m[1] !== undefined ? (WORDS[m[1].toLowerCase()] ?? 'unknown') : numeric(Number(m[2]))
  }
  const head = message.length > HEAD ? message.slice(0, HEAD) : message
  if (head.indexOf('=') !== -1) {
    const m = LOGFMT_KEY.exec(head)
    if (m !== null) return WORDS[m[1]!.toLowerCase()] ?? 'unknown'
  }
  if (c0 >= 0x45 && c0 <= 0x57) { // E F I W: klog / glog
    const k = KLOG.exec(head)
    if (k !== null) return KLOG_LEVELS[k[1]!]!
  }
  const m = PREFIX_WORD.exec(head.length > PREFIX_HEAD ? head.slice(0, PREFIX_HEAD) : head)
  if (m !== null) return WORDS[m[1]!.toLowerCase()]!
  return 'unknown'
}
