// A PodReporter that records everything, with polling waits on what it saw.
import type { PodReporter, PodSnapshot } from '../../../../workers/pod-runner.ts';
import type { LogRecord } from '../../../../src/schema/streams.ts';

export class Recorder implements PodReporter {
  readonly snapshots: PodSnapshot[] = [];
  readonly logs: { container: string; record: LogRecord }[] = [];
  readonly samples: Parameters<PodReporter['stats']>[0][] = [];

  status(s: PodSnapshot): void {
    this.snapshots.push(structuredClone(s));
  }

  log(container: string, record: LogRecord): void {
    this.logs.push({ container, record });
  }

  stats(s: Parameters<PodReporter['stats']>[0]): void {
    this.samples.push(s);
  }

  get last(): PodSnapshot {
    return this.snapshots.at(-1)!;
  }

  notes(): { reason: string; message: string; container?: string }[] {
    return this.snapshots.flatMap((s) => s.notes ?? []);
  }

  lines(container: string): string[] {
    return this.logs.filter((l) => l.container === container).map((l) => l.record.line);
  }

  /** Waits until some snapshot satisfies `pred` (polling; generous timeout). */
  async until(what: string, pred: (s: PodSnapshot) => boolean, timeoutMs = 60_000): Promise<PodSnapshot> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.snapshots.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last snapshot: ${JSON.stringify(this.last)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The v1 ContainerStatus of `name` in a snapshot. */
export function statusOf(s: PodSnapshot, name: string): any {
  return [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])].find((c) => (c as { name: string }).name === name);
}

export function condition(s: PodSnapshot, type: string): string | undefined {
  return s.conditions?.find((c) => c.type === type)?.status;
}
