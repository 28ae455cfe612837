import { readFileSync } from 'node:fs'

// The one version string: package.json's, read once at start (this file is dist/core/version.js
// at run time, two folders below the package root, as it is in the image's /app).
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

/** What daytwo calls itself to servers it talks to: `daytwo/<version> (<part>)`. */
export function userAgent (part: string): string {
  return `daytwo/${VERSION} (${part})`
}
