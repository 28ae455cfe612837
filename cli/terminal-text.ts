// What the CLI prints comes partly from whoever shipped the logs: a job named
// `\x1b]0;owned\x07` would set the window title of the operator who lists jobs, a line with
// `\x1b[2J` would clear the screen. Names from the server (jobs, processes, files, orgs, error
// messages) are printed through `terminalSafe` always; log lines are when they go to a
// terminal (docs/fetch.md "Terminal output").

// C0 controls but tab, DEL, C1 controls (0x9b is CSI on some terminals), and the Unicode
// formatting characters that reorder or hide text (bidi overrides and isolates, line and
// paragraph separators).
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g
// In a name a tab is not harmless either: it moves the columns.
const CONTROL_OR_TAB = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g

function escape (ch: string): string {
  const c = ch.charCodeAt(0)
  return c <= 0xff ? '\\x' + c.toString(16).padStart(2, '0') : '\\u' + c.toString(16).padStart(4, '0')
}

/** A name or message as printable text: each control character as `\xHH` (`\uHHHH` above 0xff). */
export function terminalSafe (s: string): string {
  CONTROL_OR_TAB.lastIndex = 0
  return CONTROL_OR_TAB.test(s) ? s.replace(CONTROL_OR_TAB, escape) : s
}

/** A log line for a terminal: the same, but tabs kept (they are part of many lines' layout). */
export function terminalLine (s: string): string {
  CONTROL.lastIndex = 0
  return CONTROL.test(s) ? s.replace(CONTROL, escape) : s
}

/** A multi-line message from the server (a list of files, say): each line made safe, the line breaks kept. */
export function terminalMessage (s: string): string {
  return s.split('\n').map(terminalSafe).join('\n')
}
