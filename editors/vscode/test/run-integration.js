#!/usr/bin/env node
// Runs the integration tests (test/integration/*.test.ts, compiled to out/) inside a real
// VS Code: code-server 4.100.3 (VS Code 1.100.3) from the host that test/setup-host.sh
// installs, loaded in Debian's chromium through playwright-core, with this extension loaded
// from extensionDevelopmentPath, against the real tacit binary on a copy of the polyglot
// fixture. Prints the Mocha output; exits 0 when every test passed. Writes the counts to
// $TACIT_TEST_RESULTS (JSON) when set.
'use strict';

const cp = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const util = require('util');
const { createRequire } = require('module');

const ext = path.resolve(__dirname, '..');
const repo = path.resolve(ext, '..', '..');
const hostDir = process.env.TACIT_VSCODE_HOST || path.join(os.homedir(), '.cache', 'tacit', 'vscode-host');
const timeoutMs = Number(process.env.TACIT_IT_TIMEOUT_MS || 300000);

function log(...a) {
  console.log('[it]', ...a);
}

function findBinary() {
  const candidates = [
    process.env.TACIT_BIN,
    path.join(process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'tacit', 'target'), 'debug', 'tacit'),
    path.join(repo, 'target', 'debug', 'tacit'),
  ].filter(Boolean);
  for (const c of candidates) if (fs.existsSync(c)) return path.resolve(c);
  throw new Error(`tacit binary not found (tried ${candidates.join(', ')}): build it with cargo build, or set TACIT_BIN`);
}

function git(cwd, args, env = {}) {
  cp.execFileSync('git', args, {
    cwd,
    stdio: 'pipe',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.com', ...env },
  });
}

/** PATH without the directories that hold a `tacit`: the not-found test needs none there. */
function pathWithoutTacit() {
  return (process.env.PATH || '')
    .split(path.delimiter)
    .filter((d) => d && !fs.existsSync(path.join(d, 'tacit')))
    .join(path.delimiter);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function healthy(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => (req.destroy(), resolve(false)));
  });
}

async function main() {
  const started = Date.now();
  const bin = findBinary();
  const entry = path.join(hostDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!fs.existsSync(entry)) throw new Error(`no test host at ${hostDir}: run test/setup-host.sh`);
  if (!fs.existsSync(path.join(ext, 'dist', 'extension.js'))) throw new Error('dist/extension.js missing: npm run bundle');
  if (!fs.existsSync(path.join(ext, 'out', 'test', 'integration', 'index.js'))) throw new Error('out/test missing: npm run compile-tests');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tacit-vscode-it-'));
  const ws = path.join(tmp, 'polyglot');
  fs.cpSync(path.join(repo, 'tests', 'fixtures', 'polyglot'), ws, { recursive: true });
  // An instruction file two of whose rules contradict the repository (a pnpm lock file is
  // checked in; docs/architecture.md does not exist): the diagnostics tests read it.
  fs.writeFileSync(path.join(ws, 'AGENTS.md'), '# Agents\n\n- Install dependencies with `npm install`.\n- Architecture notes live in `docs/architecture.md`.\n');
  fs.writeFileSync(path.join(ws, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
  git(ws, ['init', '-q', '-b', 'main']);
  git(ws, ['add', '-A']);
  git(ws, ['commit', '-qm', 'feat: initial import']);
  // Three earlier weeks of two commits each (Mondays from 2026-10-05): three episodes for
  // the explorer to list by date.
  const week = 7 * 86400;
  const start = Math.floor(Date.UTC(2026, 9, 5) / 1000);
  for (let w = 0; w < 3; w++) {
    for (let c = 0; c < 2; c++) {
      const file = path.join(ws, 'docs', `week-${w}.md`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.appendFileSync(file, `note ${c}\n`);
      const when = `@${start + w * week + c * 3600} +0000`;
      git(ws, ['add', '-A'], { GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when });
      git(ws, ['commit', '-qm', `docs: week ${w} note ${c}`], { GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when });
    }
  }
  const store = path.join(tmp, 'store');
  const ud = path.join(tmp, 'ud');
  const settings = {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'tacit.server.path': bin,
    'tacit.store.path': store,
    'tacit.confirmForget': false,
  };
  // code-server is a remote window: machine(-overridable) settings such as tacit.server.path
  // belong in the remote (Machine) settings; the local User settings get them filtered out
  // once the configuration is reloaded.
  for (const dir of ['User', 'Machine']) {
    fs.mkdirSync(path.join(ud, dir), { recursive: true });
    fs.writeFileSync(path.join(ud, dir, 'settings.json'), JSON.stringify(settings, null, 2));
  }
  fs.writeFileSync(path.join(tmp, 'config.yaml'), 'auth: none\n');
  const results = process.env.TACIT_TEST_RESULTS || path.join(tmp, 'results.json');

  const port = await freePort();
  log(`workspace ${ws}, store ${store}, server ${bin}, code-server on :${port}`);
  const server = cp.spawn(
    process.execPath,
    [entry, '--config', path.join(tmp, 'config.yaml'), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', ud, '--extensions-dir', path.join(tmp, 'ext')],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: pathWithoutTacit(), EXTENSIONS_GALLERY: '{}', TACIT_STORE: store, TACIT_TEST_RESULTS: results, TACIT_TEST_WORKSPACE: ws, TACIT_BIN: bin },
    },
  );
  const serverLog = fs.createWriteStream(path.join(tmp, 'code-server.log'));
  server.stdout.pipe(serverLog);
  server.stderr.pipe(serverLog);

  let browser;
  const cleanup = () => {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  };
  process.on('exit', cleanup);
  try {
    const deadline = Date.now() + 30000;
    while (!(await healthy(port))) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`code-server did not start; see ${path.join(tmp, 'code-server.log')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    log(`code-server up in ${Date.now() - started} ms`);

    const hostRequire = createRequire(path.join(hostDir, 'package.json'));
    const { chromium } = hostRequire('playwright-core');
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    const page = await browser.newPage();
    let done;
    const exit = new Promise((r) => (done = r));
    await page.exposeFunction('codeAutomationExit', (code) => done(code));
    await page.exposeFunction('codeAutomationLog', (_type, args) => console.log(util.format(...args)));
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://remote${ext}`],
      ['extensionTestsPath', `vscode-remote://remote${path.join(ext, 'out', 'test', 'integration', 'index.js')}`],
    ];
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url);
    const timer = new Promise((r) => setTimeout(() => r('timeout'), timeoutMs));
    const code = await Promise.race([exit, timer]);
    if (code === 'timeout') {
      log(`timed out after ${timeoutMs} ms; code-server log: ${path.join(tmp, 'code-server.log')}`);
      return 1;
    }
    log(`finished with code ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (!fs.existsSync(results)) fs.writeFileSync(results, JSON.stringify({ passed: 0, failed: 1, error: 'the tests did not run' }));
    return code;
  } finally {
    if (browser) await browser.close().catch(() => undefined);
    cleanup();
    if (process.env.TACIT_KEEP_TMP) log(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error('[it]', e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
