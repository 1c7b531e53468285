import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { resolveServerPath } from '../../src/serverPath';

const base = { extensionPath: '/ext', platform: 'linux', arch: 'x64', pathEnv: '/usr/local/bin:/usr/bin' };
const having = (...files: string[]) => (p: string) => files.includes(p);

describe('server binary resolution', () => {
  it('the setting wins', () => {
    assert.deepEqual(resolveServerPath({ ...base, setting: '/opt/tacit', isExecutable: having('/opt/tacit', '/ext/bin/tacit') }), { path: '/opt/tacit', source: 'setting' });
  });

  it('a relative setting resolves against the workspace folder', () => {
    assert.deepEqual(resolveServerPath({ ...base, setting: 'target/debug/tacit', workspaceFolder: '/ws', isExecutable: having('/ws/target/debug/tacit') }), {
      path: '/ws/target/debug/tacit',
      source: 'setting',
    });
  });

  it('a setting that points nowhere is an error, not a silent fallback', () => {
    const r = resolveServerPath({ ...base, setting: '/nope', isExecutable: having('/usr/bin/tacit') });
    assert.ok('error' in r);
    assert.match(r.error, /tacit\.server\.path is set to "\/nope"/);
  });

  it('then the bundled binary, per platform first', () => {
    assert.deepEqual(resolveServerPath({ ...base, isExecutable: having('/ext/bin/linux-x64/tacit', '/ext/bin/tacit', '/usr/bin/tacit') }), {
      path: '/ext/bin/linux-x64/tacit',
      source: 'bundled',
    });
    assert.deepEqual(resolveServerPath({ ...base, isExecutable: having('/ext/bin/tacit', '/usr/bin/tacit') }), { path: '/ext/bin/tacit', source: 'bundled' });
  });

  it('then PATH, in order', () => {
    assert.deepEqual(resolveServerPath({ ...base, isExecutable: having('/usr/bin/tacit') }), { path: '/usr/bin/tacit', source: 'path' });
  });

  it('windows: tacit.exe and ; separators', () => {
    const r = resolveServerPath({ extensionPath: 'C:\\ext', platform: 'win32', arch: 'x64', pathEnv: 'C:\\a;C:\\b', isExecutable: having('C:\\b\\tacit.exe') });
    assert.deepEqual(r, { path: 'C:\\b\\tacit.exe', source: 'path' });
  });

  it('nothing found: a message that says how to fix it, and where it looked', () => {
    const r = resolveServerPath({ ...base, isExecutable: having() });
    assert.ok('error' in r);
    assert.match(r.error, /"tacit\.server\.path"/);
    // How to install it, for a user without a checkout to build in.
    assert.match(r.error, /scripts\/package/);
    assert.match(r.error, /cargo install --path server/);
    assert.doesNotMatch(r.error, /cargo build/);
    assert.deepEqual(r.tried, ['/ext/bin/linux-x64/tacit', '/ext/bin/tacit', '/usr/local/bin/tacit', '/usr/bin/tacit']);
  });
});
