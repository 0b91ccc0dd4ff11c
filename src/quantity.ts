/**
 * Kubernetes resource quantities ("500m", "2", "512Mi", "1G", "1e3") as plain numbers.
 * CPU becomes millicores, everything else a count of units (bytes for memory).
 */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const PATTERN = /^([+-]?[0-9.]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/;

/** Parses a quantity into its value in base units; throws on a malformed one. */
export function parseQuantity(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new Error(`invalid quantity ${input}`);
    return input;
  }
  const m = PATTERN.exec(input.trim());
  if (!m || m[1] === '.' || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(m[1]!)) throw new Error(`invalid quantity ${JSON.stringify(input)} (expected e.g. 500m, 2, 512Mi, 1G)`);
  const base = Number(m[1]);
  if (m[3] !== undefined) return base * 10 ** Number(m[3]);
  const suffix = m[2] ?? '';
  return base * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** CPU quantity → millicores, rounded up like the kubelet ("0.1" → 100, "1m" → 1). */
export function cpuMillis(input: string | number): number {
  return Math.ceil(parseQuantity(input) * 1000 - 1e-9);
}

/** Memory/storage quantity → bytes, rounded up. */
export function bytes(input: string | number): number {
  return Math.ceil(parseQuantity(input) - 1e-9);
}

/** Millicores → the canonical Kubernetes string ("1500m", "2"). */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Bytes → the canonical Kubernetes string in Ki when not a whole Mi/Gi ("512Mi", "1Gi"). */
export function formatBytes(n: number): string {
  for (const [suffix, size] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${suffix}`;
  }
  return n % 1024 === 0 || n < 1024 ? String(n) : `${Math.ceil(n / 1024)}Ki`;
}
