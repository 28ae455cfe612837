import { parseArgs, type ParseArgsConfig } from 'node:util'
import { DaytwoError } from '../core/errors.js'

/**
 * A command's flags and positionals, parsed strictly; an unknown or malformed flag is a usage
 * error naming the command (its first sentence: node's own message goes on about internals).
 */
export function commandArgs<const O extends NonNullable<ParseArgsConfig['options']>> (argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options })
  } catch (err) {
    throw new DaytwoError('USAGE', (err as Error).message.split('. ')[0]!.replace(/\.$/, ''), command)
  }
}
