/**
 * Environment flags (flipping one needs no restart) and the canary.
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

/** The switches an operator flips while the process runs, as the gated call paths see them. */
export interface LlmSwitches {
  readonly disablePool: boolean;
  readonly forceLegacy: boolean;
  readonly emergencyMode: boolean;
  /** LLM_CANARY_PERCENT, when set to a number. */
  readonly canaryPercent: number | undefined;
}

/**
 * How long one reading of the switches is used. Reading process.env costs about as much as the
 * whole gate (a call into the C++ environment per name), so a gated call reads the switches at
 * most once per this period; a flip takes effect within it, still without a restart.
 */
export const SWITCH_REFRESH_MS = 1000;

let switches: LlmSwitches | undefined;
let switchTimer: ReturnType<typeof setTimeout> | undefined;

/** The switches, from the environment at most SWITCH_REFRESH_MS ago. */
export function llmSwitches(): LlmSwitches {
  return switches ?? readSwitches();
}

function readSwitches(): LlmSwitches {
  switches = {
    disablePool: envFlag("DISABLE_POOL"),
    forceLegacy: envFlag("FORCE_LEGACY_LLM"),
    emergencyMode: envFlag("EMERGENCY_MODE"),
    canaryPercent: envNumber("LLM_CANARY_PERCENT"),
  };
  // One timer a period, and only while calls read the switches; it never keeps the process alive.
  switchTimer = setTimeout(reloadLlmSwitches, SWITCH_REFRESH_MS);
  (switchTimer as { unref?: () => void }).unref?.();
  return switches;
}

/** Read the switches again on the next call: for code that changes process.env and wants it to apply at once. */
export function reloadLlmSwitches(): void {
  if (switchTimer !== undefined) clearTimeout(switchTimer);
  switchTimer = undefined;
  switches = undefined;
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
  // The UTF-8 bytes are produced on the fly: no Buffer per call (a lone surrogate becomes U+FFFD, as Buffer.from does).
  let hash = 0x811c9dc5;
  const byte = (value: number) => {
    hash = Math.imul(hash ^ value, 0x01000193);
  };
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      byte(code);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else code = 0xfffd;
    }
    if (code < 0x800) {
      byte(0xc0 | (code >> 6));
    } else if (code < 0x10000) {
      byte(0xe0 | (code >> 12));
      byte(0x80 | ((code >> 6) & 0x3f));
    } else {
      byte(0xf0 | (code >> 18));
      byte(0x80 | ((code >> 12) & 0x3f));
      byte(0x80 | ((code >> 6) & 0x3f));
    }
    if (code >= 0x80) byte(0x80 | (code & 0x3f));
  }
  return hash >>> 0;
}

/** Whether a key is inside a canary of `percent` (0–100, fractions allowed). */
export function isInCanary(key: unknown, percent: number): boolean {
  if (!(percent > 0)) return false;
  if (percent >= 100) return true;
  return canaryBucket(key) < percent * 100;
}
