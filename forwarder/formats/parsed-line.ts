/** One physical log line once its envelope (CRI, Docker json-file) is taken off. */
export interface ParsedLine {
  /** Unix ns as a decimal string. */
  ts: string
  stdio: string
  /** True when the next line of the same stdio stream continues this one. */
  partial: boolean
  message: string
}
