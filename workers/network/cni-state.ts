/**
 * What the network remembers per pod, on disk under `<stateDir>/pods/<podUid>.json`, so that
 * DEL runs with the same configuration and prevResult after a worker restart (libcni's
 * result cache plays the same role). A record is written BEFORE the ADD chain runs, so a
 * worker that dies mid-ADD still leaves enough behind for gc to undo it.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CniConfList } from './cni-config.ts';

/** One pod's network record. */
export interface PodNetworkRecord {
  podUid: string;
  /** CNI_CONTAINERID used for every plugin call of this pod. */
  containerId: string;
  netnsPath: string;
  /** `dev:ino` of the namespace at setup: tells a live /proc/<pid>/ns/net from a reused pid. */
  netnsId: string;
  /** The exact chain and loopback configuration used on ADD. */
  confList: CniConfList;
  loopback: CniConfList;
  /** portmap runtimeConfig given on ADD (DEL must get the same). */
  portMappings: Record<string, unknown>[];
  /** The chain's final ADD result; absent while ADD has not completed. */
  result?: unknown;
}

/** Reads and writes pod records; every write is atomic (tmp + rename). */
export class NetworkStateStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'pods');
  }

  private file(podUid: string): string {
    return join(this.dir, `${podUid}.json`);
  }

  /** The record of `podUid`, or undefined when there is none (or it is unreadable). */
  async get(podUid: string): Promise<PodNetworkRecord | undefined> {
    const text = await readFile(this.file(podUid), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as PodNetworkRecord;
    } catch {
      return undefined; // a torn write cannot happen (rename), but a hand-edited file can
    }
  }

  async put(rec: PodNetworkRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.file(rec.podUid)}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(rec));
    await rename(tmp, this.file(rec.podUid));
  }

  /** Idempotent. */
  async remove(podUid: string): Promise<void> {
    await rm(this.file(podUid), { force: true });
  }

  /** Pod UIDs that have a record. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
  }
}

/** Characters CNI allows in a container id; pod UIDs (UUIDs) already fit. */
export function validContainerId(id: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(id) && id.length <= 253;
}
