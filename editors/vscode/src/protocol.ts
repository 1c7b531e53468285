// The tacit server's command interface (workspace/executeCommand, one JSON object argument),
// typed, plus the pure argument builders the commands, tools and API share. No `vscode`
// import here: unit tests load this file under plain Node.

import type {
  EntriesOfEntry,
  EntriesOfScored,
  Entry,
  Conflict,
  Layer,
  Plan,
  Planned,
  ReindexStarted,
  StatusReport,
  TeamStoreStatus,
} from './generated/protocol';

// The server's own types, generated from its Rust types (scripts/protocol-types.js).
export type {
  AuditEvent,
  ContextResult,
  EmbedderInfo,
  Entry,
  ExportResult,
  ImportResult,
  Layer,
  Period,
  RememberResult,
  Scored,
  Status,
  Step,
  StatusReport,
  StoreKind,
  TeamState,
  TeamStoreStatus,
} from './generated/protocol';
export const LAYERS: readonly Layer[] = ['memory', 'episode', 'procedure', 'pinned'];

// Results the LSP layer builds itself around the server's types.
/** `tacit.recall`: the entries found, best first. */
export type RecallResult = EntriesOfScored;
/** `tacit.list`: the entries, without vectors. */
export type ListResult = EntriesOfEntry;
/** `tacit.reindex`: the run started in the background for these roots. */
export type ReindexResult = ReindexStarted;
/** `tacit.status`: the server's report (with its team store) and whether an index run is going on. */
export type StatusResult = StatusReport & { indexing: boolean };

/** The team store in one line: where it is and whether it is reachable. */
export function teamStoreLine(t: TeamStoreStatus | undefined): string {
  if (!t || t.state === 'off') return 'Team store: off (set `teamStore` to share memory with the team)';
  const where = t.uri ? `\`${t.uri}\`` : '';
  if (t.state === 'connected') return `Team store: ${where} — connected, ${t.entries} ${t.entries === 1 ? 'entry' : 'entries'}`;
  if (t.state === 'connecting') return `Team store: ${where} — connecting`;
  return `Team store: ${where} — unreachable${t.reason ? `: ${t.reason}` : ''}`;
}

/** One instruction file as `tacit.writeInstructions` would write it (`path` relative to the root). */
export type PlannedFile = Planned;
/** A rule tacit left out because a hand-written rule of the same file says otherwise. */
export type InstructionConflict = Conflict;
/** `tacit.writeInstructions`: the plan, and how many files were written (0 on a dry run). */
export type WriteInstructionsResult = Plan & { written: number };

export type InstructionFormat = 'agents' | 'claude' | 'copilot' | 'cursor' | 'windsurf';

/** The formats `tacit.writeInstructions` writes, with the files each tool reads. */
export const INSTRUCTION_FORMATS: readonly { format: InstructionFormat; files: string; tool: string }[] = [
  { format: 'agents', files: 'AGENTS.md', tool: 'Codex, Jules, Amp and other agents' },
  { format: 'claude', files: 'CLAUDE.md', tool: 'Claude Code' },
  { format: 'copilot', files: '.github/copilot-instructions.md, .github/instructions/<language>.instructions.md', tool: 'GitHub Copilot' },
  { format: 'cursor', files: '.cursor/rules/tacit.mdc, .cursor/rules/<language>.mdc', tool: 'Cursor' },
  { format: 'windsurf', files: '.windsurf/rules/tacit.md, .windsurf/rules/<language>.md', tool: 'Windsurf' },
];

/** What a write (or a dry run) of instruction files did, in one sentence. */
export function describeWrite(r: WriteInstructionsResult, dryRun: boolean): string {
  const changed = r.files.filter((f) => f.changed);
  const names = (fs: PlannedFile[]) => fs.map((f) => f.path).join(', ');
  const parts: string[] = [];
  if (!changed.length) parts.push(`${r.files.length === 1 ? r.files[0].path + ' is' : 'the files are'} up to date`);
  else {
    const created = changed.filter((f) => f.created);
    const updated = changed.filter((f) => !f.created);
    if (created.length) parts.push(`${dryRun ? 'would create' : 'created'} ${names(created)}`);
    if (updated.length) parts.push(`${dryRun ? 'would update' : 'updated'} ${names(updated)}`);
  }
  if (r.conflicts.length) {
    parts.push(`${r.conflicts.length === 1 ? '1 rule' : `${r.conflicts.length} rules`} left out where a hand-written rule says otherwise (${r.conflicts.map((c) => `${c.file}:${c.line}`).join(', ')})`);
  }
  if (r.problems.length) parts.push(`left alone: ${r.problems.join('; ')}`);
  return parts.join('; ');
}

/**
 * `tacit/storeChanged`: the server's notification that the store changed (writes of this
 * process or of another one, such as `tacit remember` in a terminal), with the layers that
 * changed.
 */
export const STORE_CHANGED = 'tacit/storeChanged';
export interface StoreChangedParams { layers: Layer[] }

/** The layers a `tacit/storeChanged` names; every layer when it names none it knows. */
export function changedLayers(params: unknown): Layer[] {
  const raw = params && typeof params === 'object' ? (params as { layers?: unknown }).layers : undefined;
  const layers = Array.isArray(raw) ? raw.filter((l): l is Layer => (LAYERS as readonly unknown[]).includes(l)) : [];
  return layers.length ? [...new Set(layers)] : [...LAYERS];
}

/** Server command names. The extension's own VS Code commands use other ids (see package.json). */
export const Cmd = {
  assembleContext: 'tacit.assembleContext',
  recall: 'tacit.recall',
  remember: 'tacit.remember',
  update: 'tacit.update',
  forget: 'tacit.forget',
  restore: 'tacit.restore',
  pin: 'tacit.pin',
  unpin: 'tacit.unpin',
  list: 'tacit.list',
  get: 'tacit.get',
  export: 'tacit.export',
  import: 'tacit.import',
  reindex: 'tacit.reindex',
  status: 'tacit.status',
  writeInstructions: 'tacit.writeInstructions',
  openExample: 'tacit.openExample',
} as const;

/** Thrown for input a person must fix before anything is sent to the server. */
export class InputError extends Error {}

/** Copies `obj` without undefined, null, empty-string and empty-array values. */
export function compact<T extends object>(obj: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' && v.trim() === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = typeof v === 'string' ? v.trim() : v;
  }
  return out as Partial<T>;
}

function positiveInt(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw new InputError(`${name} must be a positive number, not ${JSON.stringify(v)}`);
  }
  return Math.floor(n);
}

function layerList(v: unknown): Layer[] | undefined {
  if (v === undefined || v === null) return undefined;
  const arr = Array.isArray(v) ? v : String(v).split(',');
  const layers = arr.map((s) => String(s).trim().toLowerCase()).filter((s) => s !== '');
  for (const l of layers) {
    if (!(LAYERS as readonly string[]).includes(l)) {
      throw new InputError(`unknown layer "${l}": use one of ${LAYERS.join(', ')}`);
    }
  }
  return layers.length ? (layers as Layer[]) : undefined;
}

/** Splits "a, b,,c" into ["a","b","c"]; accepts an array as it is. */
export function parseTags(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const arr = Array.isArray(v) ? v.map(String) : String(v).split(',');
  const tags = arr.map((s) => s.trim()).filter((s) => s !== '');
  return tags.length ? [...new Set(tags)] : undefined;
}

export interface ContextInput {
  query?: string;
  uri?: string;
  budgetTokens?: number | string;
  layers?: unknown;
  limit?: number | string;
}

export function contextArgs(input: ContextInput): Record<string, unknown> {
  return compact({
    query: input.query,
    uri: input.uri,
    budgetTokens: positiveInt(input.budgetTokens, 'budgetTokens'),
    layers: layerList(input.layers),
    limit: positiveInt(input.limit, 'limit'),
  });
}

export interface RecallInput { query?: string; layers?: unknown; limit?: number | string; includeSuperseded?: boolean }

export function recallArgs(input: RecallInput): Record<string, unknown> {
  const query = (input.query ?? '').trim();
  if (!query) throw new InputError('recall needs a query: what are you looking for?');
  return compact({
    query,
    layers: layerList(input.layers),
    limit: positiveInt(input.limit, 'limit'),
    includeSuperseded: input.includeSuperseded ? true : undefined,
  });
}

export interface RememberInput {
  text?: string;
  layer?: string;
  key?: string;
  tags?: unknown;
  importance?: number | string;
  scope?: string;
}

export function rememberArgs(input: RememberInput): Record<string, unknown> {
  const text = (input.text ?? '').trim();
  if (!text) throw new InputError('nothing to remember: the text is empty');
  const layer = input.layer ? layerList([input.layer])?.[0] : undefined;
  let importance: number | undefined;
  if (input.importance !== undefined && input.importance !== '') {
    importance = Number(input.importance);
    if (!Number.isFinite(importance) || importance < 0 || importance > 1) {
      throw new InputError(`importance must be between 0 and 1, not ${JSON.stringify(input.importance)}`);
    }
  }
  return compact({ text, layer, key: input.key, tags: parseTags(input.tags), importance, scope: input.scope });
}

/** Input of the `tacit_assemble_context` language-model tool. */
export interface ContextToolInput { query?: string; filePath?: string; budgetTokens?: number }

/**
 * Maps the tool's input to `tacit.assembleContext` arguments: a relative `filePath` is
 * resolved against the first workspace folder; with neither query nor file, the active
 * editor's file (if any) stands in.
 */
export function contextToolArgs(input: ContextToolInput, roots: string[], activeFile?: string): Record<string, unknown> {
  let uri: string | undefined;
  const fp = input.filePath?.trim();
  if (fp) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(fp) || fp.startsWith('/') || /^[A-Za-z]:[\\/]/.test(fp)) uri = fp;
    else if (roots.length) uri = joinPath(roots[0], fp);
    else uri = fp;
  } else if (!input.query?.trim() && activeFile) {
    uri = activeFile;
  }
  return contextArgs({ query: input.query, uri, budgetTokens: input.budgetTokens });
}

export function joinPath(root: string, rel: string): string {
  const sep = root.includes('\\') && !root.includes('/') ? '\\' : '/';
  return root.replace(/[\\/]+$/, '') + sep + rel.replace(/^\.?[\\/]+/, '');
}

/** `path/to/file.rs:12` (or `:12:3`) → path and 1-based line. */
export function parseExample(example: string): { path: string; line?: number } {
  const m = /^(.*?):(\d+)(?::\d+)?$/.exec(example.trim());
  if (!m) return { path: example.trim() };
  return { path: m[1], line: Number(m[2]) };
}

/** Drops the embedding vector (384 floats nobody reads) from an entry. */
export function slim(entry: Entry): Entry {
  if (!('vector' in entry)) return entry;
  const { vector: _vector, ...rest } = entry;
  return rest;
}

/**
 * Drops embedding vectors from a command result, whatever its shape (entry, {entries},
 * {entry}, context layers of {score, parts, entry}): callers never need them, and they are
 * most of the payload.
 */
export function slimResult<T>(result: T): T {
  const strip = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(strip);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (Array.isArray(o.vector) && typeof o.id === 'string') delete o.vector;
      for (const k of ['entries', 'entry', 'pinned', 'memories', 'procedures', 'episodes']) if (k in o) strip(o[k]);
    }
  };
  strip(result);
  return result;
}

/** One line per entry, as a model or a quick pick reads it. */
export function entryLine(entry: Entry): string {
  const slot = entry.key ? ` [${entry.key}${entry.value ? ` = ${entry.value}` : ''}]` : '';
  return `${entry.text}${slot}`;
}

/** The recall tool's text result. */
export function formatRecall(result: RecallResult): string {
  if (!result.entries.length) return 'No memory matches that query.';
  return result.entries
    .map((s, i) => {
      const e = s.entry;
      const where = e.examples?.length ? ` (evidence: ${e.examples.join(', ')})` : '';
      const steps = e.steps?.length ? '\n' + e.steps.map((st, j) => `   ${j + 1}. ${st.text}`).join('\n') : '';
      return `${i + 1}. [${e.layer}${e.language ? `/${e.language}` : ''}, id ${e.id}, score ${s.score.toFixed(2)}] ${entryLine(e)}${where}${steps}`;
    })
    .join('\n');
}

/** A readable message for an error thrown by a request (JSON-RPC errors carry `message`). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/** Total entries per status from `tacit.status` counts. */
export function countByStatus(counts: StatusResult['counts']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const byStatus of Object.values(counts ?? {})) {
    for (const [status, n] of Object.entries(byStatus ?? {})) out[status] = (out[status] ?? 0) + (n ?? 0);
  }
  return out;
}
