import { dedupePlaceholders, PARAM, type Tokenizer } from './pattern-tokenizers.js'

// Drain (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017)
// as Loki's pattern ingester runs it (grafana/loki pkg/pattern/drain/drain.go, default
// config): a prefix tree keyed by token count then by the leading tokens (tokens with digits
// go under the placeholder), and at its leaves clusters compared by the share of equal tokens;
// a line joins the most similar cluster when at least SIM_TH of its tokens match, and the
// tokens that differ become `<_>`. Each cluster counts its lines per 10 s sample.

const LOG_CLUSTER_DEPTH = 30
const MAX_NODE_DEPTH = LOG_CLUSTER_DEPTH - 2
const SIM_TH = 0.3
const MAX_CHILDREN = 15
const MAX_CLUSTERS = 300
const MIN_TOKENS = 4
const MAX_TOKENS = 80
/** Loki's pattern sample interval, the finest step a pattern's counts have. */
export const SAMPLE_MS = 10_000

export interface Cluster {
  id: number
  tokens: string[]
  state: number[] | null
  /** Lines per sample start (Unix ms, a multiple of SAMPLE_MS). */
  samples: Map<number, number>
  size: number
}

interface Node { children: Map<string, Node>, clusterIds: number[] }

function node (): Node { return { children: new Map(), clusterIds: [] } }

const HAS_DIGIT = /\p{N}/u

export class Drain {
  private readonly root = node()
  /** Clusters by id, least recently used first: the oldest is dropped past MAX_CLUSTERS. */
  private readonly clusters = new Map<number, Cluster>()
  private nextId = 0

  constructor (private readonly tokenizer: Tokenizer) {}

  /** Adds a line seen at `tsMs`; the cluster it joined, or null when it is not clustered. */
  train (line: string, tsMs: number): Cluster | null {
    const t = this.tokenizer.tokenize(line)
    if (t === null || t.tokens.length < MIN_TOKENS || t.tokens.length > MAX_TOKENS) return null
    let c = this.search(t.tokens)
    if (c === null) {
      c = { id: ++this.nextId, tokens: [...t.tokens], state: t.state, samples: new Map(), size: 0 }
      this.touch(c)
      this.addToTree(c)
    } else {
      for (let i = 0; i < t.tokens.length; i++) if (t.tokens[i] !== c.tokens[i]) c.tokens[i] = PARAM
      this.touch(c)
    }
    c.size++
    const at = tsMs - (tsMs % SAMPLE_MS)
    c.samples.set(at, (c.samples.get(at) ?? 0) + 1)
    return c
  }

  all (): Cluster[] { return [...this.clusters.values()] }

  pattern (c: Cluster): string {
    return dedupePlaceholders(this.tokenizer.join(c.tokens, c.state))
  }

  private touch (c: Cluster): void {
    this.clusters.delete(c.id)
    this.clusters.set(c.id, c)
    if (this.clusters.size > MAX_CLUSTERS) this.clusters.delete(this.clusters.keys().next().value!)
  }

  private search (tokens: string[]): Cluster | null {
    let cur = this.root.children.get(String(tokens.length))
    if (cur === undefined) return null
    let depth = 1
    for (const tok of tokens) {
      if (depth >= MAX_NODE_DEPTH || depth === tokens.length) break
      const next: Node | undefined = cur.children.get(tok) ?? cur.children.get(PARAM)
      if (next === undefined) return null
      cur = next
      depth++
    }
    let best: Cluster | null = null
    let bestSim = -1
    let bestParams = -1
    for (const id of cur.clusterIds) {
      const c = this.clusters.get(id)
      if (c === undefined) continue
      let same = 0
      let params = 0
      for (let i = 0; i < tokens.length; i++) {
        if (c.tokens[i] === PARAM) params++
        else if (c.tokens[i] === tokens[i]) same++
      }
      const sim = same / tokens.length
      if (sim > bestSim || (sim === bestSim && params > bestParams)) { best = c; bestSim = sim; bestParams = params }
    }
    return bestSim >= SIM_TH ? best : null
  }

  private addToTree (c: Cluster): void {
    const n = String(c.tokens.length)
    let cur = this.root.children.get(n)
    if (cur === undefined) { cur = node(); this.root.children.set(n, cur) }
    let depth = 1
    for (const tok of c.tokens) {
      if (depth >= MAX_NODE_DEPTH || depth >= c.tokens.length) {
        cur.clusterIds = cur.clusterIds.filter((id) => this.clusters.has(id))
        cur.clusterIds.push(c.id)
        return
      }
      const child = cur.children.get(tok)
      if (child !== undefined) {
        cur = child
      } else {
        const param = cur.children.get(PARAM)
        let next: Node
        if (HAS_DIGIT.test(tok)) {
          next = param ?? node()
          if (param === undefined) cur.children.set(PARAM, next)
        } else if (param !== undefined) {
          if (cur.children.size < MAX_CHILDREN) { next = node(); cur.children.set(tok, next) } else next = param
        } else if (cur.children.size + 1 < MAX_CHILDREN) {
          next = node(); cur.children.set(tok, next)
        } else {
          // The last free child is the placeholder, so that later tokens still find a branch.
          next = node(); cur.children.set(PARAM, next)
        }
        cur = next
      }
      depth++
    }
    // Fewer tokens than the depth: the cluster sits where the walk ended.
    cur.clusterIds.push(c.id)
  }
}
