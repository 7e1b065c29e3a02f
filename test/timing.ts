/**
 * What the timing suites (login-timing, reset-timing) share: the statistics that say whether one
 * answer's time tells two classes of callers apart.
 */

export const randomIp = () => `10.${[0, 0, 0].map(() => Math.floor(Math.random() * 256)).join(".")}`;

export const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 ? (sorted[Math.floor(mid)] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/**
 * How often an observer who sees one attempt's time tells the classes apart, by the Mann-Whitney
 * AUC: P(a random known e-mail's time < a random unknown one's), ties counting half, folded to
 * at least 0.5 whichever way the difference points.
 */
export const separability = (known: number[], unknown: number[]): number => {
  let wins = 0;
  for (const k of known) for (const u of unknown) wins += k < u ? 1 : k === u ? 0.5 : 0;
  const auc = wins / (known.length * unknown.length);
  return Math.max(auc, 1 - auc);
};

export const shuffled = <T>(items: T[]): T[] => {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};
