const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A Kubernetes resource quantity (`500m`, `2Gi`, `1.5`, `1e3`) as a number,
 * or undefined when it is not one.
 */
export function parseQuantity(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(
    value.trim(),
  );
  if (!match) return undefined;
  const factor = SUFFIXES[match[2]];
  const n = Number(match[1]);
  return factor === undefined || Number.isNaN(n) ? undefined : n * factor;
}

/** used/hard as a percentage (0–100, capped), undefined when unknown. */
export function usagePercent(
  used: string | undefined,
  hard: string | undefined,
): number | undefined {
  const u = parseQuantity(used ?? '0');
  const h = parseQuantity(hard);
  if (u === undefined || h === undefined) return undefined;
  if (h === 0) return u > 0 ? 100 : 0;
  return Math.min(100, Math.round((u / h) * 100));
}
