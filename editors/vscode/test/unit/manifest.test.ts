// package.json and the code agree: every contributed command is registered, every
// language-model tool is registered, every setting the code reads is declared.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const src = (f: string) => fs.readFileSync(path.join(root, 'src', f), 'utf8');

describe('manifest', () => {
  it('contributed commands are registered, and do not clash with the server commands', () => {
    const registered = [...src('commands.ts').matchAll(/\['(tacit\.[\w.]+)', this\.\w+\]/g)].map((m) => m[1]);
    const contributed: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);
    assert.deepEqual([...contributed].sort(), [...registered].sort());
    const serverCommands = [...src('protocol.ts').matchAll(/: '(tacit\.\w+)',/g)].map((m) => m[1]);
    assert.ok(serverCommands.length >= 14);
    for (const c of contributed) assert.ok(!serverCommands.includes(c), `${c} clashes with a server command`);
  });

  it('menus refer to contributed commands', () => {
    const ids = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
    for (const items of Object.values(pkg.contributes.menus) as { command: string }[][]) {
      for (const i of items) assert.ok(ids.has(i.command), i.command);
    }
  });

  it('language-model tools are declared and registered', () => {
    const declared = pkg.contributes.languageModelTools.map((t: { name: string }) => t.name).sort();
    assert.deepEqual(declared, ['tacit_assemble_context', 'tacit_recall', 'tacit_remember']);
    const registered = [...src('tools.ts').matchAll(/registerTool\('(\w+)'/g)].map((m) => m[1]).sort();
    assert.deepEqual(registered, declared);
  });

  it('minRelevance defaults to the server default the README states', () => {
    const readme = fs.readFileSync(path.join(root, '..', '..', 'README.md'), 'utf8');
    const row = /\| `minRelevance` \| `([\d.]+)` \|/.exec(readme);
    assert.ok(row, 'the README configuration table lists minRelevance');
    const setting = pkg.contributes.configuration.properties['tacit.context.minRelevance'].default;
    assert.equal(setting, Number(row[1]));
    const own = /\| `tacit\.context\.minRelevance` \| `minRelevance` \| `([\d.]+)` \|/.exec(fs.readFileSync(path.join(root, 'README.md'), 'utf8'));
    assert.equal(Number(own?.[1]), setting, "the extension README's settings table");
  });

  it('the explorer offers to choose the binary when the server is not found', () => {
    const welcome = pkg.contributes.viewsWelcome.find((w: { when: string }) => w.when === 'tacit.serverNotFound');
    assert.ok(welcome, 'a welcome view for tacit.serverNotFound');
    assert.match(welcome.contents, /\[Choose tacit Binary…\]\(command:tacit\.chooseServerBinary\)/);
    assert.match(welcome.contents, /cargo install --path server/);
    assert.match(src('client.ts'), /setContext', 'tacit\.serverNotFound'/);
  });

  it('settings the code reads are declared', () => {
    const declared = new Set(Object.keys(pkg.contributes.configuration.properties));
    const code = ['settings.ts', 'client.ts', 'explorer.ts', 'commands.ts'].map(src).join('\n');
    const read = new Set<string>();
    for (const m of code.matchAll(/get(?:<[^>]+>)?\('([\w.]+)'/g)) read.add(`tacit.${m[1]}`);
    for (const k of ['relevance', 'importance', 'recency', 'frequency', 'confidence']) read.add(`tacit.weights.${k}`);
    for (const k of read) assert.ok(declared.has(k), `${k} is read but not declared`);
  });
});
