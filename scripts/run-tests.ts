// Runs the whole suite with Node's built-in test runner on the pinned Node 24.
// Extra arguments are passed to `node --test` (e.g. a file or --test-name-pattern).
import { spawnSync } from 'node:child_process';

console.log(`test runtime: node ${process.version} (${process.execPath})`);
const extra = process.argv.slice(2);
const files = extra.some((a) => !a.startsWith('-')) ? [] : ['test/**/*.test.ts'];
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=600000', ...extra, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
