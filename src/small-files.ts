// Small files on the host's own disk (state and exit records, meta and image records,
// /proc entries) are read with synchronous calls. An fs/promises call is a round trip through
// libuv's thread pool (readFile alone is five: open, fstat, read, read, close), and on a busy
// 2-core worker every round trip is a thread wake-up and a context switch: reading a 200-byte
// file 2000 times in a row cost 160 µs of CPU per read through fs/promises against 20 µs with
// readFileSync here (node 24), and a pod start reads dozens of such files. The reads never
// touch the network or large data, so they hold the thread no longer than the syscalls.
// Writes and removals, which can wait on the disk, go to the pool in one native call each
// (workers/executor/file-batch.ts, removeTree).
import { readFileSync } from 'node:fs';

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** The file's text, or undefined when it does not exist (other errors throw). */
export function readSmall(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
}
