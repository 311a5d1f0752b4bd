// A Dockerfile reader for the deployment tests: enough of the syntax to read deploy/Dockerfile
// (stages, ARG defaults, continuation lines, JSON and shell forms, LABEL pairs, COPY flags) and
// a .dockerignore matcher with Docker's rules (last match wins, `!` re-includes, a pattern
// that matches a directory matches everything under it).
import path from 'node:path';

export interface Instruction {
  /** Upper case: FROM, RUN, COPY... */
  readonly keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  /** The FROM image with global ARG defaults substituted. */
  readonly image: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    // comments (and parser directives) are whole lines, also inside a continued instruction
    if (line.trimStart().startsWith('#') || (pending === '' && line.trim() === '')) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const whole = (pending + line).trim();
    pending = '';
    const m = /^(\w+)\s*(.*)$/s.exec(whole);
    if (!m) throw new Error(`line ${start}: cannot read "${whole}"`);
    instructions.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: start });
  });

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const image = words[0].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => globalArgs.get(a ?? b) ?? '');
      const name = words[1]?.toUpperCase() === 'AS' ? words[2] : undefined;
      stages.push({ image, name, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`line ${ins.line}: ${ins.keyword} before FROM`);
      const [name, value = ''] = ins.args.split('=', 2);
      globalArgs.set(name.trim(), unquote(value.trim()));
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

export function find(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** ["a", "b"] (exec form) or null (shell form). */
export function execForm(args: string): string[] | null {
  if (!args.startsWith('[')) return null;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) return null;
  return parsed;
}

/** LABEL / ENV pairs: key="value with spaces" key2=value2. */
export function pairs(args: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) out.set(m[1], unquote(m[2]));
  return out;
}

export interface Copy {
  /** --from=<stage>, or undefined for the build context. */
  readonly from?: string;
  readonly sources: string[];
  readonly dest: string;
}

export function parseCopy(args: string): Copy {
  const words = execForm(args) ?? args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: rest.slice(0, -1), dest: rest[rest.length - 1] };
}

/** A RUN's shell command without its BuildKit flags (--mount=..., --network=...). */
export function runCommand(args: string): string {
  return args.replace(/^(--[\w-]+=\S+\s+)+/, '');
}

/** The WORKDIR in effect at instruction `index` of `stage`. */
export function workdirAt(stage: Stage, index: number): string {
  let dir = '/';
  for (const ins of stage.instructions.slice(0, index)) {
    if (ins.keyword === 'WORKDIR') dir = path.posix.resolve(dir, ins.args);
  }
  return dir;
}

function unquote(s: string): string {
  return s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s;
}

/** Docker's .dockerignore rules: does the build context include `file` (relative, posix)? */
export function dockerignoreIncludes(ignoreText: string, file: string): boolean {
  const patterns = ignoreText
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negated = l.startsWith('!');
      const p = path.posix.normalize((negated ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, '');
      return { negated, pattern: p };
    });
  const parts = file.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let included = true;
  for (const { negated, pattern } of patterns) {
    const re = globToRegExp(pattern);
    if (prefixes.some((p) => re.test(p))) included = negated;
  }
  return included;
}

/**
 * Go's filepath.Match syntax, as Docker uses it, plus `**` for any number of directories:
 * unlike shell globs, `*` also matches names that start with a dot (.git, .env).
 */
function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      // "**/" matches zero or more directories; a trailing "**" anything
      const slash = pattern[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new Error(`.dockerignore: unclosed "[" in ${pattern}`);
      re += `[${pattern.slice(i + 1, end)}]`; // [^a-z] negates, as in Go
      i = end;
    } else if (c === '\\') re += literal(pattern[++i] ?? '');
    else re += literal(c);
  }
  return new RegExp(`^${re}$`);
}

function literal(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
