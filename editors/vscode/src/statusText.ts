// The status bar item's text and tooltip from the client state. Pure: unit-tested under Node.

import { count } from './format';
import { TeamStoreStatus, teamStoreLine } from './protocol';

export interface StatusInput {
  state: 'stopped' | 'starting' | 'running' | 'failed';
  error?: string;
  indexing?: { message?: string; percentage?: number; title?: string };
  counts?: Record<string, number>;
  byLayer?: Record<string, Record<string, number> | undefined>;
  fallback?: boolean;
  store?: string;
  teamStore?: TeamStoreStatus;
  /** The server's resident memory in bytes, as it reports it. */
  residentBytes?: number | null;
}

export function statusText(s: StatusInput): { text: string; tooltip: string; error: boolean; warning: boolean } {
  if (s.state === 'failed') return { text: '$(error) tacit', tooltip: `${s.error ?? 'The tacit server failed to start.'}\n\nClick for the Memory Explorer.`, error: true, warning: false };
  if (s.state === 'starting') return { text: '$(loading~spin) tacit', tooltip: 'Starting the tacit server…', error: false, warning: false };
  if (s.state === 'stopped') return { text: '$(circle-slash) tacit', tooltip: 'The tacit server is stopped.', error: false, warning: false };
  if (s.indexing) {
    const pct = s.indexing.percentage !== undefined ? ` ${Math.round(s.indexing.percentage)}%` : '';
    return { text: `$(sync~spin) tacit${pct}`, tooltip: `Indexing: ${s.indexing.message ?? 'starting'}`, error: false, warning: false };
  }
  const active = s.counts?.active ?? 0;
  const lines = [`**tacit** — ${count(active, 'active memory', 'active memories')}`];
  for (const [layer, byStatus] of Object.entries(s.byLayer ?? {})) {
    const parts = Object.entries(byStatus ?? {}).map(([st, n]) => `${n} ${st}`);
    if (parts.length) lines.push(`- ${layer}: ${parts.join(', ')}`);
  }
  if (s.fallback) lines.push('', '⚠️ Embedding with the lexical fallback (model not found): matches words, not meaning.');
  if (s.store) lines.push('', `Store: \`${s.store}\``);
  if (s.store || s.teamStore) lines.push('', teamStoreLine(s.teamStore));
  if (typeof s.residentBytes === 'number') lines.push('', `Server memory: ${Math.round(s.residentBytes / 1048576)} MB resident`);
  lines.push('', 'Click for the Memory Explorer.');
  return { text: `${s.fallback ? '$(warning)' : '$(book)'} tacit ${active}`, tooltip: lines.join('\n'), error: false, warning: !!s.fallback };
}
