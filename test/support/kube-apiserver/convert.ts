// Conversion between what a client sends/receives and the stored form. Everything is stored
// as its core/v1 (or only) version; events.k8s.io/v1 Events map onto core/v1 Event fields.
import type { KubeObject } from './objects.ts';
import { apiVersionOf, type ResourceDef } from './resources.ts';

// events.k8s.io/v1 field ↔ core/v1 field (k8s.io/kubernetes/pkg/apis/events/v1 conversion).
const EVENT_FIELD_MAP: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

const isEventsGroup = (def: ResourceDef) => def.group === 'events.k8s.io';

/** Stored form of an incoming object (kind/apiVersion set to the storage version). */
export function fromWire(def: ResourceDef, obj: KubeObject): KubeObject {
  const out: KubeObject = { ...obj, metadata: { ...(obj.metadata ?? {}) } };
  if (isEventsGroup(def)) {
    for (const [v1, core] of EVENT_FIELD_MAP) {
      if (v1 in out) {
        out[core] = out[v1];
        delete out[v1];
      }
    }
    out.apiVersion = 'v1';
  } else {
    out.apiVersion = apiVersionOf(def);
  }
  out.kind = def.kind;
  return out;
}

/** The object as the client's API version shows it. */
export function toWire(def: ResourceDef, obj: KubeObject): KubeObject {
  const out: KubeObject = { ...obj };
  if (isEventsGroup(def)) {
    for (const [v1, core] of EVENT_FIELD_MAP) {
      if (core in out) {
        out[v1] = out[core];
        delete out[core];
      }
    }
  }
  // apiVersion and kind first, as the apiserver serialises them.
  delete out.apiVersion;
  delete out.kind;
  return { apiVersion: apiVersionOf(def), kind: def.kind, ...out };
}

/** A list item: typed lists from the apiserver carry no per-item apiVersion/kind. */
export function toListItem(def: ResourceDef, obj: KubeObject): KubeObject {
  const out = toWire(def, obj);
  delete out.apiVersion;
  delete out.kind;
  return out;
}
