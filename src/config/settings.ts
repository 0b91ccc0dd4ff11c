/**
 * Setting kinds: each turns a raw string (flag, env var) or config-file value into a typed
 * value, or throws an Error whose message is the allowed form ("an integer from 1 to 1000").
 */
import { bytes, cpuMillis } from '../quantity.ts';

export interface Kind<T> {
  /** Human-readable allowed form, shown in --help and in rejections. */
  readonly form: string;
  parse(raw: unknown): T;
  /** Flags of this kind take no value (`--flag` = true, `--no-flag` = false). */
  readonly isFlag?: boolean;
}

const fail = (form: string): never => {
  throw new Error(form);
};

export const str = (form = 'a non-empty string', pattern?: RegExp): Kind<string> => ({
  form,
  parse: (raw) => (typeof raw === 'string' && raw.length > 0 && (!pattern || pattern.test(raw)) ? raw : fail(form)),
});

/** DNS-1123 label (pool names) and subdomain (node names). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const int = (min: number, max: number): Kind<number> => {
  const form = `an integer from ${min} to ${max}`;
  return {
    form,
    parse(raw) {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      return Number.isSafeInteger(n) && n >= min && n <= max ? n : fail(form);
    },
  };
};

export const bool = (): Kind<boolean> => ({
  form: 'true or false',
  isFlag: true,
  parse(raw) {
    if (typeof raw === 'boolean') return raw;
    if (typeof raw === 'string' && /^(true|1|yes|on)$/i.test(raw)) return true;
    if (typeof raw === 'string' && /^(false|0|no|off)$/i.test(raw)) return false;
    return fail('true or false');
  },
});

export const oneOf = <const V extends string>(...values: V[]): Kind<V> => {
  const form = `one of ${values.join(', ')}`;
  return { form, parse: (raw) => (values.includes(raw as V) ? (raw as V) : fail(form)) };
};

export const url = (protocols: string[]): Kind<string> => {
  const form = `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`;
  return {
    form,
    parse(raw) {
      if (typeof raw !== 'string') return fail(form);
      try {
        const u = new URL(raw);
        return protocols.includes(u.protocol) && u.hostname ? raw : fail(form);
      } catch {
        return fail(form);
      }
    },
  };
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Durations like 500ms, 10s, 5m, 1h; value in milliseconds. */
export const duration = (): Kind<number> => {
  const form = 'a duration like 500ms, 10s, 5m or 1h';
  return {
    form,
    parse(raw) {
      const m = typeof raw === 'string' ? /^(\d+)(ms|s|m|h)$/.exec(raw.trim()) : null;
      return m ? Number(m[1]) * UNITS[m[2]!]! : fail(form);
    },
  };
};

/** host:port to listen on; the host must be an IP or localhost. */
export const listen = (): Kind<{ host: string; port: number }> => {
  const form = 'HOST:PORT with an IP address or localhost and a port from 0 to 65535 (e.g. 127.0.0.1:10250)';
  return {
    form,
    parse(raw) {
      const m = typeof raw === 'string' ? /^(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):(\d{1,5})$/.exec(raw.trim()) : null;
      const port = m ? Number(m[2]) : -1;
      return m && port <= 65535 ? { host: m[1]!.replace(/^\[|\]$/g, ''), port } : fail(form);
    },
  };
};

export const cpu = (): Kind<number> => ({
  form: 'a CPU quantity like 500m or 4',
  parse(raw) {
    try {
      const v = cpuMillis(raw as string);
      return v >= 0 ? v : fail('a CPU quantity like 500m or 4');
    } catch {
      return fail('a CPU quantity like 500m or 4');
    }
  },
});

export const memory = (): Kind<number> => ({
  form: 'a byte quantity like 512Mi or 8Gi',
  parse(raw) {
    try {
      const v = bytes(raw as string);
      return v >= 0 ? v : fail('a byte quantity like 512Mi or 8Gi');
    } catch {
      return fail('a byte quantity like 512Mi or 8Gi');
    }
  },
});

/** key=value pairs separated by commas (labels). */
export const labels = (): Kind<Record<string, string>> => {
  const form = 'comma-separated key=value pairs (e.g. zone=a,tier=spot)';
  return {
    form,
    parse(raw) {
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return raw as Record<string, string>;
      if (typeof raw !== 'string') return fail(form);
      const out: Record<string, string> = {};
      for (const pair of raw.split(',').filter(Boolean)) {
        const m = /^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$/.exec(pair.trim());
        if (!m) return fail(form);
        out[m[1]!] = m[2]!;
      }
      return out;
    },
  };
};

/** Comma-separated registry hosts (host or host:port). */
export const hostList = (): Kind<string[]> => {
  const form = 'comma-separated registry hosts like 127.0.0.1:5000,registry.local';
  return {
    form,
    parse(raw) {
      const items = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : null;
      return items && items.every((h) => /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(h)) ? items : fail(form);
    },
  };
};

/** registry=mirror pairs: each registry's mirrors are tried, in order, before it. */
export const mirrors = (): Kind<Record<string, string[]>> => {
  const form = 'comma-separated REGISTRY=MIRROR pairs like docker.io=127.0.0.1:5000';
  return {
    form,
    parse(raw) {
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return raw as Record<string, string[]>;
      if (typeof raw !== 'string') return fail(form);
      const out: Record<string, string[]> = {};
      for (const pair of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
        const m = /^([A-Za-z0-9.-]+(?::\d{1,5})?)=([A-Za-z0-9.-]+(?::\d{1,5})?)$/.exec(pair);
        if (!m) return fail(form);
        (out[m[1]!] ??= []).push(m[2]!);
      }
      return out;
    },
  };
};
