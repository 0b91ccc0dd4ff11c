/**
 * Reads host-local's lease directory (`<dataDir>/<network>/`): one file per leased address,
 * named by the address, holding the owner's container id (and, since 0.9, the ifname on a
 * second line). Used by gc to find leases of pods that have no record any more.
 */
import { readdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';

/** Leased address → owning container id; empty when the directory does not exist. */
export async function leaseOwners(dir: string): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!isIP(name)) continue; // lock, last_reserved_ip.0
    const text = await readFile(join(dir, name), 'utf8').catch(() => '');
    const id = text.split(/\r?\n/)[0].trim();
    if (id) owners.set(name, id);
  }
  return owners;
}
