/**
 * Runs a conflist chain as libcni does: ADD through the plugins in order, each getting the
 * previous plugin's result as `prevResult`; CHECK in order and DEL in reverse order, each
 * getting the cached ADD result as `prevResult`.
 */
import type { CniConfList } from './cni-config.ts';
import { pluginConfig } from './cni-config.ts';
import { invokePlugin } from './cni-plugin.ts';

/** Who the chain runs for. */
export interface ChainTarget {
  containerId: string;
  /** Empty on DEL when the pod's namespace is gone. */
  netns: string;
  ifName: string;
  cniPath: string[];
  /** Runtime values of capabilities (e.g. portMappings). */
  runtime: Record<string, unknown>;
}

/** ADD through every plugin; resolves with the last plugin's result. Stops at the first failure. */
export async function addChain(list: CniConfList, t: ChainTarget): Promise<unknown> {
  let prev: unknown;
  for (const plugin of list.plugins) {
    const out = await invokePlugin(plugin.type, pluginConfig(list, plugin, prev, t.runtime), { command: 'ADD', ...target(t) });
    // a plugin that prints nothing passes the previous result on (spec: chained plugins must output one)
    if (out !== undefined) prev = out;
  }
  return prev;
}

/**
 * DEL through every plugin in reverse order. Unlike libcni it goes on after a failure so
 * one broken plugin does not strand the others' state; the failures are returned.
 */
export async function delChain(list: CniConfList, t: ChainTarget, cachedResult: unknown): Promise<unknown[]> {
  const failures: unknown[] = [];
  for (const plugin of [...list.plugins].reverse()) {
    await invokePlugin(plugin.type, pluginConfig(list, plugin, cachedResult, t.runtime), { command: 'DEL', ...target(t) })
      .catch((err: unknown) => failures.push(err));
  }
  return failures;
}

/** CHECK through every plugin; rejects with the first plugin's CNI error. */
export async function checkChain(list: CniConfList, t: ChainTarget, cachedResult: unknown): Promise<void> {
  for (const plugin of list.plugins) {
    await invokePlugin(plugin.type, pluginConfig(list, plugin, cachedResult, t.runtime), { command: 'CHECK', ...target(t) });
  }
}

function target(t: ChainTarget) {
  return { containerId: t.containerId, netns: t.netns, ifName: t.ifName, cniPath: t.cniPath };
}
