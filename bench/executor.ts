// `npm run bench -- executor [N]`: start-to-exit latency of `true` in a busybox bundle,
// N runs (default 30) each of burstlet-runtime, runc and crun, interleaved, plus the floor
// (`unshare … chroot ROOTFS /bin/true`). Prints wall and CPU (user+sys of the runtime and
// everything it reaped) median/p90/p99 per runtime; the last line is one JSON object.
//
// crun 1.8 refuses this hybrid cgroup host, so it runs inside `unshare -m` with
// /sys/fs/cgroup/unified unmounted; that wrapper is measured alone too ("crun-wrapper")
// and ratio_vs_crun compares against crun minus the wrapper's median (in crun's favour).
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { burstletRuntimePath, isHybridCgroupHost } from '../workers/executor/native-runtime.ts';
import { makeScratch } from '../test/native/support/bundle.ts';

const N = Number(process.argv[2] ?? 30);
if (process.getuid?.() !== 0) {
  console.error('bench executor: needs root');
  process.exit(2);
}
execFileSync('make', ['-s', '-C', join(import.meta.dirname, '../native')], { stdio: 'inherit' });

const scratch = makeScratch('burstlet-bench-');
const bundle = scratch.bundle('true', { args: ['/bin/true'] });
const rootfs = join(bundle, 'rootfs');
const hybrid = isHybridCgroupHost();
const crunWrap = (argv: string[]) =>
  hybrid ? ['unshare', '-m', 'sh', '-c', 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"', ...argv] : argv;

let seq = 0;
const runners: Record<string, () => string[]> = {
  burstlet: () => [burstletRuntimePath, '--root', join(scratch.dir, 'b'), 'run', '--bundle', bundle, `b${++seq}`],
  runc: () => ['runc', '--root', join(scratch.dir, 'r'), 'run', '--bundle', bundle, `r${++seq}`],
  crun: () => crunWrap(['crun', '--root', join(scratch.dir, 'c'), 'run', '--bundle', bundle, `c${++seq}`]),
  'crun-wrapper': () => crunWrap(['true']),
  floor: () => ['unshare', '-m', '-p', '-f', '-i', '-u', '-n', 'chroot', rootfs, '/bin/true'],
};

/** Runs argv under bash, which times it: wall from $EPOCHREALTIME, CPU from `times`. */
function measure(argv: string[]): Promise<{ wallMs: number; cpuMs: number }> {
  const script = 's=$EPOCHREALTIME; "$@" >/dev/null 2>/tmp/burstlet-bench.err; rc=$?; e=$EPOCHREALTIME; echo "$s $e $rc"; times';
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script, 'bash', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.once('exit', () => {
      const [first, , children] = out.trim().split('\n');
      const [s, e, rc] = first.split(' ').map(Number);
      if (rc !== 0) return reject(new Error(`${argv.join(' ')} exited ${rc}`));
      const secs = (children ?? '').match(/(\d+)m([\d.]+)s/g)?.map((t) => {
        const [, m, sec] = /(\d+)m([\d.]+)s/.exec(t)!;
        return Number(m) * 60 + Number(sec);
      }) ?? [0, 0];
      resolve({ wallMs: (e - s) * 1000, cpuMs: (secs[0] + secs[1]) * 1000 });
    });
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const f = (x: number) => x.toFixed(1).padStart(7);

const wall: Record<string, number[]> = {};
const cpu: Record<string, number[]> = {};
for (const name of Object.keys(runners)) (wall[name] = []), (cpu[name] = []);

try {
  for (const name of Object.keys(runners)) await measure(runners[name]()); // warm caches
  for (let i = 0; i < N; i++) {
    for (const name of Object.keys(runners)) {
      const m = await measure(runners[name]());
      wall[name].push(m.wallMs);
      cpu[name].push(m.cpuMs);
    }
  }
} finally {
  scratch.cleanup();
}

console.log(`executor bench: ${N} interleaved runs of /bin/true per runtime (busybox bundle)`);
if (hybrid) console.log('crun runs in a private mount namespace without /sys/fs/cgroup/unified (hybrid host)');
console.log('runtime        wall p50  wall p90  wall p99   cpu p50   cpu p90  (ms)');
for (const name of Object.keys(runners)) {
  console.log(`${name.padEnd(13)} ${f(pct(wall[name], 50))}   ${f(pct(wall[name], 90))}   ${f(pct(wall[name], 99))}   ` +
    `${f(pct(cpu[name], 50))}   ${f(pct(cpu[name], 90))}`);
}
const med = (n: string) => pct(wall[n], 50);
const crunNet = med('crun') - med('crun-wrapper');
const round = (x: number) => Math.round(x * 100) / 100;
console.log(JSON.stringify({
  runs: N,
  burstlet_ms: round(med('burstlet')), runc_ms: round(med('runc')), crun_ms: round(med('crun')),
  crun_wrapper_ms: round(med('crun-wrapper')), crun_net_ms: round(crunNet), floor_ms: round(med('floor')),
  burstlet_p90_ms: round(pct(wall.burstlet, 90)), burstlet_p99_ms: round(pct(wall.burstlet, 99)),
  burstlet_cpu_ms: round(pct(cpu.burstlet, 50)), runc_cpu_ms: round(pct(cpu.runc, 50)), crun_cpu_ms: round(pct(cpu.crun, 50)),
  ratio_vs_crun: round(med('burstlet') / crunNet), ratio_vs_crun_wrapped: round(med('burstlet') / med('crun')),
  ratio_vs_runc: round(med('burstlet') / med('runc')),
}));
