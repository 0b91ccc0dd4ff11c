/**
 * The executor's own run rate on the worker's bundle: the bench captures the config.json
 * the worker wrote for a running busybox container (and a copy of its mounted rootfs), turns
 * it into a stand-alone /bin/true bundle, and runs `burstlet-runtime run` on it `parallel`
 * at once — the yardstick for the worker's pods/s.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { burstletRuntimePath } from '../../workers/executor/native-runtime.ts';

const run = promisify(execFile);

interface Spec {
  process: { args: string[] };
  root: { path: string };
  mounts?: { source?: string; destination: string; type?: string }[];
  linux?: { namespaces?: { type: string; path?: string }[]; cgroupsPath?: string };
}

/**
 * Copies the container bundle at `bundle` (the worker's, while its container runs) to
 * `dest` as a bundle that runs /bin/true on its own: rootfs copied out of the overlay mount,
 * files bound from the pod's directories (run and data) copied next to it, namespaces the pod shared (paths of
 * its pause process) created anew, no cgroupsPath (the runtime then uses /burstlet/<id>).
 */
export async function captureBundle(bundle: string, podDirs: string[], dest: string): Promise<string> {
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as Spec;
  await mkdir(join(dest, 'files'), { recursive: true });
  await run('cp', ['-a', spec.root.path, join(dest, 'rootfs')]);
  spec.root.path = join(dest, 'rootfs');
  spec.process.args = ['/bin/true'];
  let n = 0;
  for (const m of spec.mounts ?? []) {
    const source = m.source;
    if (!source || !podDirs.some((d) => source.startsWith(`${d}/`))) continue;
    if (!(await stat(source)).isFile()) continue;
    const copy = join(dest, 'files', `${n++}-${m.destination.replaceAll('/', '_')}`);
    await copyFile(source, copy);
    m.source = copy;
  }
  if (spec.linux) {
    spec.linux.namespaces = spec.linux.namespaces?.map((ns) => ({ type: ns.type }));
    delete spec.linux.cgroupsPath;
  }
  await writeFile(join(dest, 'config.json'), JSON.stringify(spec));
  return dest;
}

/**
 * Runs `runs` containers of `bundle` with `burstlet-runtime run --root <stateRoot>`, `parallel`
 * at a time, ids `<idPrefix><n>`, logs in `logDir`; resolves with runs per second. Fails when any run exits non-zero. The runs
 * are started by `xargs -P` (a small C process), not from Node: each child_process spawn forks
 * the bench's own ~100 MB process, which took about 40 % of this 2-core machine and held the
 * yardstick well below what the executor can do.
 */
export async function executorRunRate(bundle: string, stateRoot: string, logDir: string, idPrefix: string, runs: number, parallel: number): Promise<number> {
  await mkdir(logDir, { recursive: true });
  const ids = Array.from({ length: runs }, (_, i) => `${idPrefix}${i}`).join('\n');
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('xargs', ['-P', String(parallel), '-I{}', burstletRuntimePath, '--root', stateRoot, 'run',
      '--bundle', bundle, '--log-path', join(logDir, '{}.log'), '{}'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()).length > 4096 && (stderr = stderr.slice(-4096)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`burstlet-runtime run under xargs exited ${code}: ${stderr.trim()}`))));
    child.stdin.end(`${ids}\n`);
  });
  return runs / ((performance.now() - t0) / 1000);
}
