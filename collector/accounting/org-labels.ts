// A bounded `org` label for per-org metrics: the busiest N orgs get their own label, every
// other org is summed as `other`. Free slots go to orgs as they appear; once full, every
// `rerank()` (once a minute) hands the slot of the quietest labelled org to an unlabelled org
// that sent more in that window. An org that loses its slot has its series removed and then
// counts as `other`, so every series stays monotonic (no counter ever goes down) and the
// label set never exceeds N + 1.

export const OTHER = 'other'
const MAX_CANDIDATES = 10_000

export class OrgLabels {
  /** Labelled orgs → bytes in the current window. */
  private readonly labelled = new Map<string, number>()
  /** Unlabelled orgs → bytes in the current window (bounded). */
  private readonly candidates = new Map<string, number>()

  constructor (private readonly n: number, private readonly onEvict: (org: string) => void) {}

  /** The label to count `bytes` of `org` under. */
  label (org: string, bytes: number): string {
    if (org === OTHER || this.n === 0) return OTHER
    const w = this.labelled.get(org)
    if (w !== undefined) { this.labelled.set(org, w + bytes); return org }
    if (this.labelled.size < this.n) { this.labelled.set(org, bytes); return org }
    const c = this.candidates.get(org)
    if (c !== undefined) this.candidates.set(org, c + bytes)
    else if (this.candidates.size < MAX_CANDIDATES) this.candidates.set(org, bytes)
    return OTHER
  }

  /** Swap quiet labelled orgs for busier unlabelled ones, then start a new window. */
  rerank (): void {
    const up = [...this.candidates].sort((a, b) => b[1] - a[1])
    const down = [...this.labelled].sort((a, b) => a[1] - b[1])
    for (let i = 0; i < up.length && i < down.length; i++) {
      if (up[i]![1] <= down[i]![1]) break
      this.labelled.delete(down[i]![0])
      this.onEvict(down[i]![0])
      this.labelled.set(up[i]![0], 0)
    }
    for (const k of this.labelled.keys()) this.labelled.set(k, 0)
    this.candidates.clear()
  }

  get labels (): string[] { return [...this.labelled.keys()] }
}
