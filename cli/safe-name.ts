import { createHash } from 'node:crypto'

// Names in a bundle come from whoever shipped the logs (a forwarder's tags, a syslog sender's
// app-name): a job called `..` or a file called `x/../../authorized_keys` must not become a
// tar member that escapes the folder it is extracted into. Each folder or file name of a
// bundle is made of one name by percent-encoding the bytes that are not safe in a path
// component (docs/fetch.md "Bundle names"):
//   - `%`, `/`, `\`, NUL and other C0 controls, DEL and C1 controls → `%XX` (the UTF-8 bytes);
//   - a name made only of dots (`.`, `..`, `...`) → every dot as `%2E`;
//   - an empty name → `_`;
//   - a name over MAX_COMPONENT bytes once encoded → cut, then `~` and 8 hex digits of its hash.
// Decoding `%XX` gives the original name back (except the last two cases), as `decodeURIComponent` does.

/** Longest encoded name, in bytes: below every file system's NAME_MAX (255). */
export const MAX_COMPONENT = 200

const UNSAFE = /[\u0000-\u001f\u007f-\u009f%/\\]/gu

function percent (ch: string): string {
  let s = ''
  for (const b of Buffer.from(ch, 'utf8')) s += '%' + b.toString(16).toUpperCase().padStart(2, '0')
  return s
}

/** One safe path component (a folder or file name) for `name`. */
export function safeComponent (name: string): string {
  if (name === '') return '_'
  let s = name.replace(UNSAFE, percent)
  if (/^\.+$/.test(s)) s = s.replace(/\./g, '%2E')
  if (Buffer.byteLength(s) <= MAX_COMPONENT) return s
  const hash = createHash('sha1').update(name).digest('hex').slice(0, 8)
  // Cut at a character: encoded names are ASCII except the non-ASCII characters kept as they are.
  let cut = ''
  let bytes = 0
  for (const ch of s) {
    const n = Buffer.byteLength(ch)
    if (bytes + n > MAX_COMPONENT - 9) break
    cut += ch
    bytes += n
  }
  // Never end on half of a %XX escape.
  cut = cut.replace(/%[0-9A-F]?$/, '')
  return cut + '~' + hash
}
