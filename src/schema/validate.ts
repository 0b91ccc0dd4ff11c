/**
 * Tiny runtime validators for everything that crosses Redis or comes from users. A validator
 * takes an unknown value and returns it typed, or throws a SchemaError naming the path of the
 * first bad field. Validators never mutate their input; `object` drops unknown keys only when
 * asked (`strict: false` keeps them as-is).
 */
export class SchemaError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path || '(root)'}: ${message}`);
    this.name = 'SchemaError';
    this.path = path;
  }
}

export type Validator<T> = (value: unknown, path?: string) => T;
export type Infer<V> = V extends Validator<infer T> ? T : never;

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'string' ? `string ${JSON.stringify(v.slice(0, 40))}` : typeof v;

export const string =
  (opts: { min?: number; max?: number; pattern?: RegExp } = {}): Validator<string> =>
  (v, path = '') => {
    if (typeof v !== 'string') throw new SchemaError(path, `expected a string, got ${describe(v)}`);
    if (opts.min !== undefined && v.length < opts.min) throw new SchemaError(path, `must have at least ${opts.min} characters`);
    if (opts.max !== undefined && v.length > opts.max) throw new SchemaError(path, `must have at most ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(v)) throw new SchemaError(path, `must match ${opts.pattern}`);
    return v;
  };

export const integer =
  (opts: { min?: number; max?: number } = {}): Validator<number> =>
  (v, path = '') => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new SchemaError(path, `expected an integer, got ${describe(v)}`);
    if (opts.min !== undefined && v < opts.min) throw new SchemaError(path, `must be >= ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) throw new SchemaError(path, `must be <= ${opts.max}`);
    return v;
  };

export const number =
  (opts: { min?: number } = {}): Validator<number> =>
  (v, path = '') => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SchemaError(path, `expected a number, got ${describe(v)}`);
    if (opts.min !== undefined && v < opts.min) throw new SchemaError(path, `must be >= ${opts.min}`);
    return v;
  };

export const boolean = (): Validator<boolean> => (v, path = '') => {
  if (typeof v !== 'boolean') throw new SchemaError(path, `expected a boolean, got ${describe(v)}`);
  return v;
};

export const literal =
  <const L extends readonly (string | number | boolean)[]>(...values: L): Validator<L[number]> =>
  (v, path = '') => {
    if (!values.includes(v as L[number])) throw new SchemaError(path, `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${describe(v)}`);
    return v as L[number];
  };

export const array =
  <T>(item: Validator<T>, opts: { max?: number } = {}): Validator<T[]> =>
  (v, path = '') => {
    if (!Array.isArray(v)) throw new SchemaError(path, `expected an array, got ${describe(v)}`);
    if (opts.max !== undefined && v.length > opts.max) throw new SchemaError(path, `must have at most ${opts.max} items`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };

export const record =
  <T>(item: Validator<T>): Validator<Record<string, T>> =>
  (v, path = '') => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, `expected an object, got ${describe(v)}`);
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = item(x, path ? `${path}.${k}` : k);
    return out;
  };

/** Any JSON object, kept as-is (for Kubernetes sub-objects interpreted by their consumer). */
export const anyObject = (): Validator<Record<string, unknown>> => (v, path = '') => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, `expected an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
};

const OPTIONAL = Symbol('optional');
export type Optional<T> = Validator<T | undefined> & { [OPTIONAL]: true };

export const optional = <T>(inner: Validator<T>): Optional<T> => {
  const v = ((x: unknown, path = '') => (x === undefined || x === null ? undefined : inner(x, path))) as Optional<T>;
  v[OPTIONAL] = true;
  return v;
};

type Shape = Record<string, Validator<unknown>>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? never : K }[keyof S];
type OptionalKeys<S extends Shape> = Exclude<keyof S, RequiredKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/** An object with known fields; unknown fields are rejected unless `strict: false`. */
export const object =
  <S extends Shape>(shape: S, opts: { strict?: boolean } = {}): Validator<ObjectOf<S>> =>
  (v, path = '') => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, `expected an object, got ${describe(v)}`);
    const input = v as Record<string, unknown>;
    const out: Record<string, unknown> = opts.strict === false ? { ...input } : {};
    for (const [key, validate] of Object.entries(shape)) {
      const value = validate(input[key], path ? `${path}.${key}` : key);
      if (value !== undefined) out[key] = value;
      else delete out[key];
    }
    if (opts.strict !== false) {
      const unknown = Object.keys(input).filter((k) => !(k in shape));
      if (unknown.length) throw new SchemaError(path, `unknown field ${JSON.stringify(unknown[0])}`);
    }
    return out as ObjectOf<S>;
  };

/** A tagged union: picks the validator by the value of `tag`. */
export const union =
  <const K extends string, M extends Record<string, Validator<unknown>>>(tag: K, variants: M): Validator<Infer<M[keyof M]>> =>
  (v, path = '') => {
    if (typeof v !== 'object' || v === null) throw new SchemaError(path, `expected an object, got ${describe(v)}`);
    const kind = (v as Record<string, unknown>)[tag];
    const validate = typeof kind === 'string' ? variants[kind] : undefined;
    if (!validate) throw new SchemaError(path ? `${path}.${tag}` : tag, `expected one of ${Object.keys(variants).join(', ')}, got ${describe(kind)}`);
    return validate(v, path) as Infer<M[keyof M]>;
  };
