/** A small Dockerfile reader: enough to check stages and instructions statically. */

export interface Instruction {
  keyword: string;
  /** The text after the keyword, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  base: string;
  name: string | undefined;
  index: number;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARG lines before the first FROM. */
  globalArgs: Map<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  const instructions: Instruction[] = [];
  let current: { text: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (!current && (trimmed === "" || trimmed.startsWith("#"))) continue;
    if (current && trimmed.startsWith("#")) continue; // comments inside a continuation
    const continued = /\\\s*$/.test(raw);
    const part = continued ? raw.replace(/\\\s*$/, "") : raw;
    if (current) current.text += " " + part.trim();
    else current = { text: part.trim(), line: i + 1 };
    if (!continued) {
      const m = /^(\S+)\s*(.*)$/.exec(current.text)!;
      instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, " ").trim(), line: current.line });
      current = undefined;
    }
  }
  if (current) throw new Error(`line ${current.line}: continuation runs past the end of the file`);

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ base: m[1]!, name: m[2]?.toLowerCase(), index: stages.length, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== "ARG") throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      const [k, v = ""] = ins.args.split("=", 2);
      globalArgs.set(k!, v);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** The stage a FROM or COPY --from names, if it is a stage of this file. */
export function stageNamed(df: Dockerfile, ref: string): Stage | undefined {
  return df.stages.find((s) => s.name === ref.toLowerCase() || String(s.index) === ref);
}

/** The stage and its ancestors through FROM <stage>, nearest first. */
export function lineage(df: Dockerfile, stage: Stage): Stage[] {
  const out = [stage];
  let s: Stage | undefined = stage;
  while ((s = stageNamed(df, s.base)) !== undefined) out.push(s);
  return out;
}

/** ENTRYPOINT/CMD/RUN in exec form as an array, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  return JSON.parse(args) as string[];
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
  chown: string | undefined;
}

export function parseCopy(ins: Instruction): Copy {
  const words = ins.args.split(" ");
  let from: string | undefined;
  let chown: string | undefined;
  while (words[0]?.startsWith("--")) {
    const flag = words.shift()!;
    if (flag.startsWith("--from=")) from = flag.slice("--from=".length);
    else if (flag.startsWith("--chown=")) chown = flag.slice("--chown=".length);
  }
  const dest = words.pop()!;
  return { from, sources: words, dest, chown };
}
