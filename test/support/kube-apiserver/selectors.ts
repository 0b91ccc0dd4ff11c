// Label and field selectors: parsing (with the apiserver's 400 messages) and matching.
import { badRequest } from './status.ts';

/** A compiled selector: true when an object's labels (or fields) satisfy it. */
export type Matcher = (values: Record<string, string>) => boolean;

type Requirement = { key: string; op: 'in' | 'notin' | 'exists' | '!exists' | '=' | '!='; values: string[] };

/** Splits on commas that are not inside parentheses ("a in (x,y),b"). */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) terms.push(current.trim());
  return terms;
}

const SET_RE = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/;
const EQ_RE = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/;
const KEY_RE = /^(!?)\s*([^\s!=(),]+)$/;

function parseLabelTerm(term: string): Requirement {
  let m = SET_RE.exec(term);
  if (m) return { key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim()).filter(Boolean) };
  m = EQ_RE.exec(term);
  if (m) return { key: m[1], op: m[2] === '!=' ? '!=' : '=', values: [m[3]] };
  m = KEY_RE.exec(term);
  if (m) return { key: m[2], op: m[1] ? '!exists' : 'exists', values: [] };
  throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
}

function matchRequirement(req: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  switch (req.op) {
    case 'exists': return has;
    case '!exists': return !has;
    case '=': return has && value === req.values[0];
    case '!=': return !has || value !== req.values[0];
    case 'in': return has && req.values.includes(value);
    case 'notin': return !has || !req.values.includes(value);
  }
}

/** Parses a labelSelector query value; an empty one matches everything. */
export function parseLabelSelector(text: string | null | undefined): Matcher {
  if (!text || !text.trim()) return () => true;
  const reqs = splitTerms(text).map(parseLabelTerm);
  return (labels) => reqs.every((r) => matchRequirement(r, labels));
}

/**
 * Parses a fieldSelector (only =, ==, != as the apiserver allows) against the fields the
 * resource supports; an unknown field is a 400 like the apiserver's field label conversion.
 */
export function parseFieldSelector(text: string | null | undefined, known: readonly string[], resourceDesc: string): Matcher {
  if (!text || !text.trim()) return () => true;
  const reqs: Requirement[] = splitTerms(text).map((term) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    return { key: m[1].trim(), op: m[2] === '!=' ? '!=' : '=', values: [m[3].trim()] };
  });
  for (const r of reqs) {
    if (!known.includes(r.key)) {
      throw badRequest(`Unable to find "${resourceDesc}" that match label selector "", field selector "${text}": field label not supported: ${r.key}`);
    }
  }
  return (fields) => reqs.every((r) => (r.op === '=' ? fields[r.key] === r.values[0] : fields[r.key] !== r.values[0]));
}

/** Field selector terms of the exact form key=value, for authorizers that inspect them. */
export function fieldEquals(text: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const term of splitTerms(text)) {
    const m = /^([^=!]+?)\s*==?\s*(.*)$/.exec(term);
    if (m) out[m[1].trim()] = m[2].trim();
  }
  return out;
}
