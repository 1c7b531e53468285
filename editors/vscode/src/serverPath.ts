// Finds the `tacit` binary: the `tacit.server.path` setting, then a binary bundled in the
// extension's `bin/` (per platform, then plain), then `tacit` on PATH. Pure: the file
// system is passed in, so unit tests need no files.

export type ServerSource = 'setting' | 'bundled' | 'path';

export interface Resolved { path: string; source: ServerSource }
export interface NotFound { error: string; tried: string[] }

export interface ResolveInput {
  setting?: string;
  extensionPath: string;
  platform: string; // process.platform
  arch: string; // process.arch
  pathEnv?: string;
  /** Relative settings resolve against it. */
  workspaceFolder?: string;
  isExecutable: (p: string) => boolean;
}

/** Says how a user (not only a contributor) gets the binary. */
export const NOT_FOUND =
  'The tacit language server was not found. Install the tacit .vsix that has the binary inside (built by `scripts/package` in a clone of tacit), ' +
  'or install the binary from a clone of tacit with `cargo install --path server` (it lands on PATH); or choose it ("tacit.server.path").';

export function resolveServerPath(input: ResolveInput): Resolved | NotFound {
  const win = input.platform === 'win32';
  const sep = win ? '\\' : '/';
  const exe = win ? 'tacit.exe' : 'tacit';
  const join = (...parts: string[]) => parts.map((p, i) => (i ? p.replace(/^[\\/]+/, '') : p.replace(/[\\/]+$/, ''))).join(sep);
  const tried: string[] = [];

  const setting = input.setting?.trim();
  if (setting) {
    const abs = /^([\\/]|[A-Za-z]:[\\/])/.test(setting) || !input.workspaceFolder ? setting : join(input.workspaceFolder, setting);
    if (input.isExecutable(abs)) return { path: abs, source: 'setting' };
    return {
      error: `tacit.server.path is set to "${setting}", but no executable is there.`,
      tried: [abs],
    };
  }

  for (const candidate of [join(input.extensionPath, 'bin', `${input.platform}-${input.arch}`, exe), join(input.extensionPath, 'bin', exe)]) {
    tried.push(candidate);
    if (input.isExecutable(candidate)) return { path: candidate, source: 'bundled' };
  }

  const dirs = (input.pathEnv ?? '').split(win ? ';' : ':').filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, exe);
    tried.push(candidate);
    if (input.isExecutable(candidate)) return { path: candidate, source: 'path' };
  }
  return { error: NOT_FOUND, tried };
}

export function isNotFound(r: Resolved | NotFound): r is NotFound {
  return 'error' in r;
}
