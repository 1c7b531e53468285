// Builds the Memory Explorer's tree from `tacit.list` entries. Pure: unit-tested under Node.

import { Entry, entryLine } from './protocol';

export type GroupId = 'pinned' | 'conventions' | 'procedures' | 'episodes' | 'superseded';

export interface GroupNode {
  kind: 'group';
  id: string;
  label: string;
  icon: string;
  children: TreeNode[];
  /** Entries below it, at any depth. */
  count: number;
}

export interface EntryNode {
  kind: 'entry';
  id: string;
  entry: Entry;
}

export type TreeNode = GroupNode | EntryNode;

const LANGUAGE_NAMES: Record<string, string> = {
  rust: 'Rust',
  python: 'Python',
  typescript: 'TypeScript',
  javascript: 'JavaScript',
  go: 'Go',
  java: 'Java',
  c: 'C',
  cpp: 'C++',
  csharp: 'C#',
  ruby: 'Ruby',
  kotlin: 'Kotlin',
  swift: 'Swift',
  lua: 'Lua',
  shell: 'Shell',
};

export function languageName(lang: string | undefined): string {
  if (!lang) return 'General';
  return LANGUAGE_NAMES[lang.toLowerCase()] ?? lang.charAt(0).toUpperCase() + lang.slice(1);
}

function byKeyThenText(a: Entry, b: Entry): number {
  return (a.key ?? '\uffff').localeCompare(b.key ?? '\uffff') || b.importance - a.importance || a.text.localeCompare(b.text);
}

function byImportanceThenRecent(a: Entry, b: Entry): number {
  return b.importance - a.importance || b.updatedAt - a.updatedAt || a.text.localeCompare(b.text);
}

/** When an entry happened: an episode's last commit, else its last update (unix ms). */
export function entryDate(e: Entry): number {
  return e.period?.end ?? e.updatedAt;
}

function newestFirst(a: Entry, b: Entry): number {
  return entryDate(b) - entryDate(a) || a.id.localeCompare(b.id);
}

function leaves(entries: Entry[], sort: (a: Entry, b: Entry) => number): EntryNode[] {
  return [...entries].sort(sort).map((entry) => ({ kind: 'entry', id: `entry:${entry.id}`, entry }));
}

function group(id: string, label: string, icon: string, children: TreeNode[]): GroupNode {
  const count = children.reduce((n, c) => n + (c.kind === 'entry' ? 1 : c.count), 0);
  return { kind: 'group', id, label, icon, children, count };
}

/**
 * The five top-level groups, always in this order and present even when empty:
 * Pinned, Conventions (one child group per language, "General" last), Procedures,
 * Episodes, Superseded (superseded and expired entries of every layer). Deleted entries
 * are left out.
 */
export function buildTree(entries: Entry[]): GroupNode[] {
  const active = entries.filter((e) => e.status === 'active');
  const inactive = entries.filter((e) => e.status === 'superseded' || e.status === 'expired');

  const byLang = new Map<string, Entry[]>();
  for (const e of active.filter((x) => x.layer === 'memory')) {
    const lang = e.language?.toLowerCase() ?? '';
    byLang.set(lang, [...(byLang.get(lang) ?? []), e]);
  }
  const langs = [...byLang.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : languageName(a).localeCompare(languageName(b))));
  const conventions = langs.map((lang) =>
    group(`lang:${lang || 'general'}`, languageName(lang || undefined), 'symbol-namespace', leaves(byLang.get(lang) ?? [], byKeyThenText)),
  );

  return [
    group('group:pinned', 'Pinned', 'pinned', leaves(active.filter((e) => e.layer === 'pinned'), byImportanceThenRecent)),
    group('group:conventions', 'Conventions', 'law', conventions),
    group('group:procedures', 'Procedures', 'checklist', leaves(active.filter((e) => e.layer === 'procedure'), byImportanceThenRecent)),
    // Episodes in the order they happened, newest first (not in the order they were stored).
    group('group:episodes', 'Episodes', 'history', leaves(active.filter((e) => e.layer === 'episode'), newestFirst)),
    group('group:superseded', 'Superseded', 'archive', leaves(inactive, newestFirst)),
  ];
}

/** Space-separated tokens the `view/item/context` menus match with `viewItem =~ /\btoken\b/`. */
export function entryContextValue(e: Entry): string {
  const tokens = ['entry', e.layer, e.status];
  tokens.push(e.layer === 'pinned' ? 'pinned' : 'unpinned');
  if (e.status === 'superseded' || e.status === 'expired') tokens.push('restorable');
  if (e.examples?.length) tokens.push('evidence');
  return tokens.join(' ');
}

export function entryLabel(e: Entry, max = 90): string {
  const text = e.text.replace(/\s+/g, ' ').trim();
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

const fmtDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function entryDescription(e: Entry): string {
  const parts: string[] = [];
  // An episode's key only names its week or branch: its date says more.
  if (e.period) parts.push(fmtDay(e.period.end));
  else if (e.key) parts.push(e.value ? `${e.key} = ${e.value}` : e.key);
  else if (e.trigger) parts.push(e.trigger);
  if (e.status !== 'active') parts.push(e.status);
  parts.push(e.source);
  return parts.join(' · ');
}

const fmtDate = (ms: number) => (ms > 0 ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16) : '—');

/** Markdown tooltip / detail of one entry. */
export function entryMarkdown(e: Entry): string {
  const lines = [`**${e.layer}** · ${e.status} · ${e.source}${e.language ? ` · ${languageName(e.language)}` : ''}`, '', entryLine(e)];
  if (e.steps?.length) {
    lines.push('');
    e.steps.forEach((s, i) => lines.push(`${i + 1}. ${s.text}`));
  }
  lines.push('');
  if (e.evidence) lines.push(`Evidence: ${e.evidence.matching}/${e.evidence.total}${e.examples?.length ? ` — ${e.examples.join(', ')}` : ''}`, '');
  lines.push(`Importance ${e.importance.toFixed(2)} · confidence ${e.confidence.toFixed(2)} · used ${e.accessCount}×`, '');
  if (e.tags?.length) lines.push(`Tags: ${e.tags.join(', ')}`, '');
  if (e.supersededBy) lines.push(`Superseded by \`${e.supersededBy}\``, '');
  lines.push(`Updated ${fmtDate(e.updatedAt)} · id \`${e.id}\``);
  return lines.join('\n');
}

/** Finds an entry node by entry id, for `reveal`. */
export function findEntry(groups: GroupNode[], id: string): { node: EntryNode; path: GroupNode[] } | undefined {
  const walk = (nodes: TreeNode[], path: GroupNode[]): { node: EntryNode; path: GroupNode[] } | undefined => {
    for (const n of nodes) {
      if (n.kind === 'entry') {
        if (n.entry.id === id) return { node: n, path };
      } else {
        const hit = walk(n.children, [...path, n]);
        if (hit) return hit;
      }
    }
    return undefined;
  };
  return walk(groups, []);
}
