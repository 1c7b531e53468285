// Loaded by the VS Code extension host (extensionTestsPath): runs the Mocha suites and
// writes their counts to $TACIT_TEST_RESULTS.
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120000, reporter: 'spec' });
  for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
    mocha.addFile(path.join(__dirname, f));
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const out = process.env.TACIT_TEST_RESULTS;
      if (out) {
        fs.writeFileSync(out, JSON.stringify({ passed: runner.stats?.passes ?? 0, failed: failures }));
      }
      if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
      else resolve();
    });
  });
}
