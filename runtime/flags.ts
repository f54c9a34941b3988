/**
 * Environment flags (read on every call, so flipping one needs no redeploy) and the canary.
 */

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);

/** true/1/yes/on, any case; anything else (or unset) is false. */
export function envFlag(name: string): boolean {
  const value = process.env[name];
  return value !== undefined && TRUE_WORDS.has(value.trim().toLowerCase());
}

/** A finite number from the environment, or undefined when unset, empty or not a number. */
export function envNumber(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value.trim() === "") return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * Stable bucket 0–9999 of a user key: FNV-1a 32-bit over the UTF-8 bytes, modulo 10000.
 * The Python runtime computes the same (vectors in fixtures/canary-vectors.json), so a user
 * lands on the same side in every process and language.
 */
export function canaryBucket(key: unknown): number {
  return fnv1a32(key === undefined || key === null ? "" : String(key)) % 10000;
}

/** FNV-1a, 32-bit, over the UTF-8 bytes of `text`; unsigned. */
export function fnv1a32(text: string): number {
  const bytes = Buffer.from(text, "utf8");
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Whether a key is inside a canary of `percent` (0–100, fractions allowed). */
export function isInCanary(key: unknown, percent: number): boolean {
  if (!(percent > 0)) return false;
  if (percent >= 100) return true;
  return canaryBucket(key) < percent * 100;
}
