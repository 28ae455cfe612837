import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { configReferenceMarkdown, loadConfig } from '../core/config.js'
import type { Command } from './main.js'

const SECRET = /token|password|apikey|sharedkey/i

function redact (v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return SECRET.test(key) ? v.map(() => '***') : v
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, k)]))
  return SECRET.test(key) && v !== '' ? '***' : v
}

export const configCommand: Command = {
  summary: 'logs config — check the configuration, or print the reference of every key',
  usage: `Usage:
  logs config check [--config FILE]   load file + DAYTWO_* environment, validate, print the result (secrets hidden)
  logs config reference [--write F]   every key, its environment variable, type, default and meaning (Markdown);
                                      with --write, rewrite the table between F's config-reference markers
                                      (npm run docs:config: docs/configuration.md)
`,
  async run (argv) {
    const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string', short: 'c' }, write: { type: 'string' } } })
    if (positionals[0] === 'reference') {
      if (values.write) {
        // Rewrite the table between the file's config-reference markers (docs/configuration.md).
        const text = readFileSync(values.write, 'utf8')
        const re = /<!-- config-reference -->\n[\s\S]*?<!-- \/config-reference -->/
        if (!re.test(text)) throw new Error(`${values.write} has no <!-- config-reference --> markers`)
        writeFileSync(values.write, text.replace(re, () => `<!-- config-reference -->\n${configReferenceMarkdown()}\n<!-- /config-reference -->`))
        return 0
      }
      process.stdout.write(configReferenceMarkdown() + '\n')
      return 0
    }
    if (positionals[0] === 'check') {
      const cfg = loadConfig(values.config ? { file: values.config } : {})
      process.stdout.write(JSON.stringify(redact(cfg), null, 2) + '\n')
      return 0
    }
    process.stderr.write(this.usage)
    return 2
  }
}
