// Small files on the host's own disk — state and exit records, bundle specs, /etc files, image
// records, cgroup directories — are read and written with synchronous calls. An fs/promises
// call is a round trip through libuv's thread pool (readFile alone is five: open, fstat, read,
// read, close), and on a busy 2-core worker every round trip is a thread wake-up and a context
// switch: reading a 200-byte file cost 160 µs of CPU through fs/promises against 20 µs with
// readFileSync here (node 24, `/tmp/fsb.mjs`-style loop of 2000), and a pod start touches dozens
// of such files. These helpers never touch the network or large data, so they hold the thread
// no longer than the syscalls themselves. Large or unbounded work (layer unpacking, volume
// trees, logs) stays asynchronous.
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
