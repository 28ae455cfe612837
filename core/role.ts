import type { Config } from './config.js'
import type { Logger } from './logger.js'
import type { LogStore } from '../store/log-store.js'

// What `logs serve` hands each role, and what a running role gives back.

export interface RoleContext {
  config: Config
  log: Logger
  /** Opened once per process and shared by the roles that need it. */
  store?: () => Promise<LogStore>
}

export interface RunningRole {
  name: string
  url: string
  /** One line for the start banner: what it serves or reads. */
  summary: string
  stop (): Promise<void>
}

export type RoleStarter = (ctx: RoleContext) => Promise<RunningRole>
