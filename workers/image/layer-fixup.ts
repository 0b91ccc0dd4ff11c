// Finishes a layer that was applied before its parents were committed (parallel unpack in
// overlay mode): directories the layer only implied take the owner and mode of the merged
// lower directory, or are refused when a lower layer has a symlink there; hardlinks to
// files of lower layers become copies.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { BurstletError } from '../../src/errors.ts';
import type { Deferred } from './layer-applier.ts';

const isRoot = process.getuid?.() === 0;

function lstatOrNull(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * Applies `deferred` to the layer in `root` over `lowers` (topmost first). Throws
 * IMAGE_LAYER_HOSTILE naming image, layer and entry when a lower symlink would be crossed.
 */
export function applyDeferred(root: string, lowers: readonly string[], deferred: Deferred, ctx: { image: string; layer: string }): void {
  if (deferred.dirs.length === 0 && deferred.links.length === 0) return;
  const implicit = new Set(deferred.dirs.map((d) => d.rel));
  const memo = new Map<string, string[]>([['', [...lowers]]]);
  const hostile = (entry: string, why: string) =>
    new BurstletError('IMAGE_LAYER_HOSTILE', `image ${ctx.image} layer ${ctx.layer} entry "${entry}": refused: ${why}`, {
      details: { image: ctx.image, layer: ctx.layer, entry },
    });
  // The lowers in which `rel` is a directory merged into the rootfs view.
  const merged = (rel: string, entry: string): { first: fs.Stats | null; at?: string; dirs: string[] } => {
    const slash = rel.lastIndexOf('/');
    const parent = slash === -1 ? '' : rel.slice(0, slash);
    if (!memo.has(parent)) merged(parent, entry);
    let first: fs.Stats | null = null;
    let at: string | undefined;
    const dirs: string[] = [];
    for (const lower of memo.get(parent)!) {
      const st = lstatOrNull(join(lower, rel));
      if (!st) continue;
      if (st.isCharacterDevice() && st.rdev === 0) break;
      if (!first) [first, at] = [st, lower];
      if (!st.isDirectory()) break;
      dirs.push(lower);
    }
    if (first?.isSymbolicLink() && implicit.has(rel)) throw hostile(entry, `path goes through symlink "${rel}" planted by an earlier layer`);
    memo.set(rel, dirs);
    return { first, at, dirs };
  };
  for (const { rel, entry } of deferred.dirs) {
    const { first } = merged(rel, entry);
    if (!first?.isDirectory()) continue;
    const path = join(root, rel);
    if (isRoot) fs.lchownSync(path, first.uid, first.gid);
    fs.chmodSync(path, first.mode & 0o7777);
  }
  for (const { rel, source, entry } of deferred.links) {
    const path = join(root, rel);
    if (lstatOrNull(path)) continue; // a later entry of the layer took the path
    const here = lstatOrNull(join(root, source));
    if (here && !here.isDirectory()) {
      fs.linkSync(join(root, source), path);
      continue;
    }
    const slash = source.lastIndexOf('/');
    if (slash !== -1) merged(source.slice(0, slash), entry);
    const { first, at } = merged(source, entry);
    if (!first?.isFile() || !at) throw hostile(entry, `hardlink source "${source}" does not exist in the image`);
    // Links cannot cross snapshots: the file is copied up (same content, owner and mode).
    fs.copyFileSync(join(at, source), path, fs.constants.COPYFILE_EXCL);
    if (isRoot) fs.lchownSync(path, first.uid, first.gid);
    fs.chmodSync(path, first.mode & 0o7777);
  }
}
