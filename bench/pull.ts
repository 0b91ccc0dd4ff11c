// `npm run bench -- pull [runs]`: pull + unpack the ~200 MB multi-layer `big` test image
// (and busybox) from a local docker-registry into an empty store, burstlet vs
// `skopeo copy docker://… oci:DIR` + `umoci unpack`, interleaved, cold cache each run.
// Prints per-run figures, medians and the ratio; the last line is one JSON object.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  // The burstlet side runs in its own process so its peak RSS is the pull's alone.
  const { ImageService } = await import('../workers/image/image-service.ts');
  const [root, ...refs] = process.argv.slice(3);
  const svc = new ImageService({ root, registry: { allowLoopbackHttp: true } });
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  for (const ref of refs) await svc.pullImage(ref);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssKb: process.resourceUsage().maxRSS }));
  process.exit(0);
}

const { startRegistry } = await import('../test/support/registry.ts');
const { pushTestImages } = await import('../test/support/images.ts');

const runs = Math.max(5, Number(process.argv[2] ?? 5) || 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function burstlet(refs: string[], dir: string): Promise<{ seconds: number; cpuSeconds: number; rssMb: number }> {
  const child = spawn(process.execPath, [self, '--child', join(dir, 'store'), ...refs], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`burstlet pull exited with ${code}`);
  const { seconds, cpuSeconds, maxRssKb } = JSON.parse(out) as { seconds: number; cpuSeconds: number; maxRssKb: number };
  return { seconds, cpuSeconds, rssMb: maxRssKb / 1024 };
}

async function skopeoUmoci(refs: string[], dir: string): Promise<number> {
  const started = performance.now();
  for (const [i, ref] of refs.entries()) {
    const layout = join(dir, `oci-${i}`);
    await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:img`]);
    await run('umoci', ['unpack', '--image', `${layout}:img`, join(dir, `bundle-${i}`)]);
  }
  return (performance.now() - started) / 1000;
}

const reg = await startRegistry();
try {
  const pushed = await pushTestImages(reg, ['big', 'busybox']);
  const refs = [pushed.big.ref, pushed.busybox.ref];
  console.log(`images: ${refs.join(', ')}; ${runs} interleaved runs, empty store each run`);
  const ours: number[] = [];
  const theirs: number[] = [];
  const rss: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const side of i % 2 === 0 ? ['burstlet', 'skopeo'] : ['skopeo', 'burstlet']) {
      const dir = mkdtempSync(join(tmpdir(), `burstlet-bench-pull-${side}-`));
      try {
        await run('sync');
        if (side === 'burstlet') {
          const r = await burstlet(refs, dir);
          ours.push(r.seconds);
          rss.push(r.rssMb);
          cpu.push(r.cpuSeconds);
          console.log(`run ${i + 1} burstlet      ${r.seconds.toFixed(3)} s  ${r.cpuSeconds.toFixed(2)} CPU-s  peak RSS ${r.rssMb.toFixed(0)} MB`);
        } else {
          const s = await skopeoUmoci(refs, dir);
          theirs.push(s);
          console.log(`run ${i + 1} skopeo+umoci  ${s.toFixed(3)} s`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  // Streaming check: the same process pulling only busybox (~1 MB) peaks at about the same
  // RSS as pulling `big` (~210 MB compressed) when nothing holds a whole layer.
  const small: number[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'burstlet-bench-pull-small-'));
    try {
      small.push((await burstlet([pushed.busybox.ref], dir)).rssMb);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const b = median(ours);
  const s = median(theirs);
  const peak = Math.max(...rss);
  const peakSmall = Math.max(...small);
  console.log(`median burstlet ${b.toFixed(3)} s (${median(cpu).toFixed(2)} CPU-s), skopeo+umoci ${s.toFixed(3)} s, ratio ${(b / s).toFixed(2)} (goal <= 0.5)`);
  console.log(`peak RSS ${peak.toFixed(0)} MB pulling big+busybox vs ${peakSmall.toFixed(0)} MB pulling busybox alone`);
  console.log(JSON.stringify({
    bench: 'pull', image: 'big+busybox', runs, burstlet_s: +b.toFixed(3), skopeo_umoci_s: +s.toFixed(3), ratio: +(b / s).toFixed(3),
    burstlet_cpu_s: +median(cpu).toFixed(3), peak_rss_mb: +peak.toFixed(1), peak_rss_busybox_only_mb: +peakSmall.toFixed(1),
    burstlet_runs_s: ours.map((x) => +x.toFixed(3)), skopeo_umoci_runs_s: theirs.map((x) => +x.toFixed(3)),
  }));
} finally {
  await reg.stop();
}
