import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { runStandalone, until } from './run-standalone.ts';

const isRoot = process.getuid?.() === 0;
export const ARTIFACTS = 'test-artifacts';

const SHORT_POD = `apiVersion: v1
kind: Pod
metadata: { name: short }
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: busybox:latest
      command: ["sh", "-c", "echo starting; sleep 4; echo short pod done"]
`;

test('browser (root): the overview follows a pod Pending → Running → Succeeded without a reload; logs, /queues, screenshot', { skip: !isRoot && 'needs root (runs real pods)' }, async (t) => {
  const s = await runStandalone();
  t.after(async () => void (await s.stop()));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(s.ui);
  await page.waitForSelector('#live:not(.off)');
  await page.evaluate('window.burstletMarker = 42');

  await writeFile(join(s.manifests, 'short.yaml'), SHORT_POD);
  const phases: string[] = [];
  await until('short pod Succeeded in the page', async () => {
    const phase = await page.getAttribute('tr[data-pod="default/short"]', 'data-phase', { timeout: 1000 }).catch(() => null);
    if (phase && phases.at(-1) !== phase) phases.push(phase);
    return phase === 'Succeeded';
  }, 180_000);
  assert.deepEqual(phases.filter((p) => ['Pending', 'Running', 'Succeeded'].includes(p)), ['Pending', 'Running', 'Succeeded'], `phases seen: ${phases.join(' → ')}`);
  assert.equal(await page.evaluate('window.burstletMarker'), 42, 'the page was not reloaded');
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });

  await page.click('a[href="/pods/default/short"]');
  await page.waitForFunction("document.querySelector('#logs')?.textContent?.includes('short pod done')", undefined, { timeout: 60_000 });
  await page.screenshot({ path: join(ARTIFACTS, 'pod.png'), fullPage: true });

  await page.goto(`${s.ui}/queues`);
  await page.waitForSelector('text=pods-default', { timeout: 60_000 });
});
