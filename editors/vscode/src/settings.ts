// Maps the `tacit.*` settings to the server's options (initializationOptions and the answer
// to its `workspace/configuration` pull of the `tacit` section). Pure: unit-tested under Node.

export interface Weights {
  relevance?: number;
  importance?: number;
  recency?: number;
  frequency?: number;
  confidence?: number;
}

/** The server's `ServerOptions` (camelCase), every field optional. */
export interface ServerOptions {
  storePath?: string;
  teamStore?: string;
  modelPath?: string;
  ignore?: string[];
  indexOnStartup?: boolean;
  budgetTokens?: number;
  limit?: number;
  minRelevance?: number;
  weights?: Weights;
  historyMaxCommits?: number;
}

/** Reads one setting below `tacit.` (e.g. `store.path`); undefined when unset. */
export type SettingGetter = (key: string) => unknown;

export const WEIGHT_KEYS = ['relevance', 'importance', 'recency', 'frequency', 'confidence'] as const;

/** Settings that the server reads only at start: changing one restarts it. */
export const RESTART_KEYS = ['tacit.server.path', 'tacit.server.extraArgs', 'tacit.store.path', 'tacit.teamStore', 'tacit.model.path'];

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function num(v: unknown, min: number, max: number, int = false): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return undefined;
  return int ? Math.floor(v) : v;
}

/** Expands a leading `~` and `${env:NAME}` / `${workspaceFolder}` in a path setting. */
export function expandPath(p: string | undefined, env: Record<string, string | undefined>, workspaceFolder?: string): string | undefined {
  if (!p) return undefined;
  let out = p.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '');
  if (workspaceFolder) out = out.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  const home = env.HOME ?? env.USERPROFILE;
  if (home && (out === '~' || out.startsWith('~/'))) out = home + out.slice(1);
  return out;
}

export function toServerOptions(
  get: SettingGetter,
  env: Record<string, string | undefined> = {},
  workspaceFolder?: string,
): ServerOptions {
  const opts: ServerOptions = {};
  const storePath = expandPath(str(get('store.path')), env, workspaceFolder);
  if (storePath) opts.storePath = storePath;
  // An object-store URI: `${env:…}` is expanded, `${workspaceFolder}` means nothing there.
  const teamStore = expandPath(str(get('teamStore')), env);
  if (teamStore) opts.teamStore = teamStore;
  const modelPath = expandPath(str(get('model.path')), env, workspaceFolder);
  if (modelPath) opts.modelPath = modelPath;
  const ignore = get('index.ignore');
  if (Array.isArray(ignore)) {
    const globs = ignore.filter((g): g is string => typeof g === 'string' && g.trim() !== '').map((g) => g.trim());
    if (globs.length) opts.ignore = globs;
  }
  const onStartup = get('index.onStartup');
  if (typeof onStartup === 'boolean') opts.indexOnStartup = onStartup;
  const budget = num(get('context.budgetTokens'), 1, 1e7, true);
  if (budget !== undefined) opts.budgetTokens = budget;
  const limit = num(get('context.limit'), 1, 1e5, true);
  if (limit !== undefined) opts.limit = limit;
  const minRelevance = num(get('context.minRelevance'), 0, 1);
  if (minRelevance !== undefined) opts.minRelevance = minRelevance;
  const weights: Weights = {};
  for (const k of WEIGHT_KEYS) {
    const w = num(get(`weights.${k}`), 0, 1);
    if (w !== undefined) weights[k] = w;
  }
  if (Object.keys(weights).length) opts.weights = weights;
  const maxCommits = num(get('history.maxCommits'), 1, 1e7, true);
  if (maxCommits !== undefined) opts.historyMaxCommits = maxCommits;
  return opts;
}

/** Whether a configuration change needs a server restart (vs. a didChangeConfiguration). */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return RESTART_KEYS.some((k) => affects(k));
}
