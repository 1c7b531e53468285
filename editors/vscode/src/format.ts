// How numbers and results read in messages, tooltips and previews. Pure: unit-tested under Node.

import { ContextResult, RememberResult } from './protocol';

/** `1 entry`, `2 entries`: a count with its noun, singular or plural. */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A duration for people: `6.2 ms` below 10 ms, `42 ms`, `1.3 s` from a second. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '? ms';
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** What a remember did besides storing: `superseded 1 entry, 2 secrets redacted`, or ''. */
export function rememberExtras(r: Pick<RememberResult, 'superseded' | 'redacted'>): string {
  const parts: string[] = [];
  if (r.superseded.length) parts.push(`superseded ${count(r.superseded.length, 'entry', 'entries')}`);
  // A count since the server's usize; 0 means none.
  if (r.redacted > 0) parts.push(`${count(r.redacted, 'secret')} redacted`);
  return parts.join(', ');
}

/** How a remember's confirmation starts: what happened, and in which store. */
export function rememberedHow(r: Pick<RememberResult, 'merged' | 'store'>): string {
  const how = r.merged ? 'Merged into an existing memory' : 'Remembered';
  return r.store === 'team' ? `${how} in the team store` : `${how} in the local store`;
}

/** The preview's text: the server's markdown plus a footer with budget, embedder and timing. */
export function renderContext(result: ContextResult, title: string): string {
  const body = result.markdown?.trim() ? result.markdown.trim() : `# ${title}\n\n_No memory is relevant here yet._`;
  const e = result.embedder;
  const embedder = e?.fallback ? `⚠️ lexical fallback embedder (${e.fallbackReason ?? 'model not found'}): matches words, not meaning` : `embedder ${e?.id ?? '?'}`;
  const n = (result.pinned?.length ?? 0) + (result.memories?.length ?? 0) + (result.procedures?.length ?? 0) + (result.episodes?.length ?? 0);
  return `${body}\n\n---\n_${count(n, 'entry', 'entries')} · ${result.tokensUsed}/${result.budgetTokens} tokens · ${embedder} · ${duration(result.timing?.totalMs)}_\n`;
}
