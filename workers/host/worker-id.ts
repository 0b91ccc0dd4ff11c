/**
 * The worker id. It must survive a restart: the id is the BullMQ lock token of every job the
 * host runs, so a restarted host with the same id can renew the locks of the pods it
 * re-adopts. The first start writes it to `<stateDir>/worker-id`; later starts read it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

const VALID = /^[A-Za-z0-9_.-]{1,128}$/;

export function stableWorkerId(stateDir: string, given?: string): string {
  if (given !== undefined) {
    if (!VALID.test(given)) throw new Error(`invalid worker id ${JSON.stringify(given)}: letters, digits, "_", "." or "-"`);
    return given;
  }
  const file = join(stateDir, 'worker-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (VALID.test(id)) return id;
  } catch {
    // first start: fall through and create one
  }
  const base = hostname().toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 100) || 'worker';
  const id = `${base}-${randomBytes(3).toString('hex')}`;
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}
