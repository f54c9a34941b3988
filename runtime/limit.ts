/**
 * How many upstream calls may run at once, and how that number moves.
 *
 * A limit algorithm is a small object fed one sample per finished upstream attempt, separate
 * from the gate that enforces it (the shape of Netflix concurrency-limits' `onSample`). The
 * client reads `current` after each sample and hands a changed value to the gate; a limit kept
 * elsewhere (a shared store) announces its changes through `onChange`.
 */

export interface ConcurrencyLimit {
  /** Upstream calls allowed at once right now (an integer ≥ 1). */
  readonly current: number;
  /**
   * One finished upstream attempt.
   * @param startedAt when the attempt was sent (epoch ms): samples older than the last change say nothing new
   * @param rttMs how long the upstream took
   * @param inFlight calls holding a slot when it was sent, itself included (what the upstream saw)
   * @param didDrop the upstream turned it away or failed it: 429, 5xx, timeout, connection error
   * @param headroom more calls the upstream said it would take now (rate-limit headers), NaN when it did not say
   */
  onSample(startedAt: number, rttMs: number, inFlight: number, didDrop: boolean, headroom: number): void;
  /** Calls `listener` with each new value decided outside onSample (a shared limit); optional. */
  onChange?(listener: (limit: number) => void): void;
}

/** `LLM_POOL_SIZE=N`: the limit never moves. */
export class FixedLimit implements ConcurrencyLimit {
  readonly current: number;

  constructor(limit: number) {
    this.current = limit;
  }

  onSample(): void {}
}

export interface AimdLimitOptions {
  /** Limit before the first sample. Default `min`. */
  initial?: number;
  min: number;
  max: number;
  /** Multiplier on a drop. Default 0.9, as Netflix's AIMDLimit and Vector's adaptive concurrency. */
  backoffRatio?: number;
}

/**
 * A round's mean latency counts as risen when it is more than this share above the fastest
 * recent round. Generous, as LLM answers vary in length: only a clear rise says calls are queueing.
 */
const LATENCY_TOLERANCE = 0.25;
/** ... and by more than this many milliseconds: a busy machine's own delays are not the upstream queueing. */
const LATENCY_MIN_RISE_MS = 50;
/** Rounds the fastest round is remembered (BBR keeps its minimum round trip ~10 s the same way). */
const LATENCY_WINDOW_ROUNDS = 20;

/**
 * The latency signal: the mean upstream time of each round trip (a round ends with the answer to
 * the first call sent after it began, whatever the limit did meanwhile) against the fastest round
 * of the last LATENCY_WINDOW_ROUNDS. A round well above it means calls wait inside the upstream:
 * too many are in flight, though nothing was refused. The fastest round is forgotten after the
 * window, so a lasting slowdown of the upstream becomes the new normal instead of pulling the
 * limit down for good, while a limit creeping up one call a round cannot drag the normal along.
 */
class LatencyWatch {
  private sum = 0;
  private count = 0;
  private roundStartedAt = 0;
  private readonly rounds: number[] = [];

  /** One answer; at the end of a round, the factor the limit should shrink by (below 1) when its latency rose, else 1. */
  sample(startedAt: number, rttMs: number, now: number): number {
    this.sum += rttMs;
    this.count++;
    if (startedAt < this.roundStartedAt) return 1;
    this.roundStartedAt = now;
    const mean = this.sum / this.count;
    this.sum = 0;
    this.count = 0;
    const fastest = this.rounds.length === 0 ? mean : Math.min(...this.rounds);
    const threshold = Math.max(fastest * (1 + LATENCY_TOLERANCE), fastest + LATENCY_MIN_RISE_MS);
    this.rounds.push(mean);
    if (this.rounds.length > LATENCY_WINDOW_ROUNDS) this.rounds.shift();
    return mean > threshold ? threshold / mean : 1;
  }
}

/** Rounds to hold just below a level that dropped before probing it again: doubles per failed probe. */
const FIRST_HOLD_ROUNDS = 4;
const MAX_HOLD_ROUNDS = 32;

/**
 * Additive increase, multiplicative decrease, with TCP's slow start and a memory of where the
 * upstream said no:
 * - slow start: +1 per good sample (about doubling per round trip) until the first drop (then
 *   below the number in flight when the refused call was sent) or the first "no headroom";
 * - then +1 per round (a round ends with the first sample of a call sent after the last change,
 *   so one answer already sent before a change never moves the limit twice);
 * - a drop steps back to the last level that held for a whole round when the limit is above it
 *   (a probe that failed), else multiplies by `backoffRatio` (at least −1: the upstream's capacity
 *   fell); once per round. The level that dropped is probed again only after holding just below
 *   it for 4, 8, … 32 rounds, so an upstream whose capacity is fixed sees few 429s, and one whose
 *   capacity rose is found;
 * - rate-limit headers: headroom 0 caps the limit at what is in flight; a known headroom caps
 *   growth at in flight + headroom, and the first such answer jumps there at once;
 * - latency (LatencyWatch): a round whose mean upstream time rose well above the usual shrinks the
 *   limit in proportion (usual threshold ÷ mean, at least −1, at most halved) and ends slow start,
 *   as Netflix's gradient limit does: an upstream that queues instead of refusing is found too.
 */
export class AimdLimit implements ConcurrencyLimit {
  current: number;
  private readonly min: number;
  private readonly max: number;
  private readonly backoffRatio: number;
  private slowStart = true;
  private lastChangeAt = 0;
  private lastDropAt = 0;
  private roundStartedAt = 0;
  private roundsAtLevel = 0;
  /** The highest level that held a whole round without a drop since it was set; 0 when none. */
  private lastGood = 0;
  /** The level that last dropped; growth waits `holdRounds` below it. */
  private ceiling = Number.POSITIVE_INFINITY;
  private holdRounds = FIRST_HOLD_ROUNDS;
  private readonly latency = new LatencyWatch();

  constructor(options: AimdLimitOptions) {
    this.min = Math.max(1, Math.floor(options.min));
    this.max = Math.max(this.min, Math.floor(options.max));
    this.backoffRatio = options.backoffRatio ?? 0.9;
    this.current = this.clamp(options.initial ?? this.min);
  }

  onSample(startedAt: number, rttMs: number, inFlight: number, didDrop: boolean, headroom: number): void {
    const now = Date.now();
    if (didDrop) {
      if (startedAt < this.lastDropAt) return; // sent before the last decrease: already answered for
      this.holdRounds = this.current === this.ceiling ? Math.min(MAX_HOLD_ROUNDS, this.holdRounds * 2) : FIRST_HOLD_ROUNDS;
      this.ceiling = this.current;
      this.lastDropAt = now;
      const probeFailed = this.lastGood > 0 && this.current > this.lastGood;
      let next = probeFailed ? this.lastGood : Math.min(this.current - 1, Math.floor(this.current * this.backoffRatio));
      // Slow start overshoots by up to double: the first refusal says how many were too many.
      if (this.slowStart) next = Math.min(next, inFlight - 1);
      this.slowStart = false;
      this.change(next, now);
      if (!probeFailed) this.lastGood = 0;
      return;
    }
    if (headroom === 0) {
      // The upstream is full: no more than what is out now, and no slow start past it.
      this.slowStart = false;
      if (inFlight < this.current) this.change(inFlight, now);
      return;
    }
    const shrink = this.latency.sample(startedAt, rttMs, now);
    if (shrink < 1 && this.current > this.min) {
      this.slowStart = false;
      this.change(Math.min(this.current - 1, Math.floor(this.current * Math.max(0.5, shrink))), now);
      return;
    }
    const fresh = startedAt >= this.roundStartedAt;
    if (fresh) {
      this.roundStartedAt = now;
      this.roundsAtLevel++;
      if (startedAt >= this.lastChangeAt && this.current > this.lastGood && !this.slowStart) this.lastGood = this.current;
    }
    if (headroom > 0 && this.slowStart && fresh) {
      // The first answer that says how much room there is: go there at once.
      this.slowStart = false;
      const target = inFlight + headroom;
      if (target > this.current) this.change(target, now);
      return;
    }
    // Only a limit that is in use may grow (Netflix: in flight ≥ half the limit).
    if (inFlight * 2 < this.current) return;
    if (this.slowStart) {
      this.change(this.current + 1, now);
      return;
    }
    if (startedAt < this.lastChangeAt || !fresh) return;
    if (headroom > 0 && this.current >= inFlight + headroom) return;
    if (this.current + 1 >= this.ceiling && this.roundsAtLevel < this.holdRounds) return;
    if (this.current + 1 > this.ceiling) this.ceiling = Number.POSITIVE_INFINITY; // a probe above it held
    this.change(this.current + 1, now);
  }

  private change(limit: number, now: number): void {
    const next = this.clamp(limit);
    if (next === this.current) return;
    this.current = next;
    this.lastChangeAt = now;
    this.roundStartedAt = now;
    this.roundsAtLevel = 0;
  }

  private clamp(limit: number): number {
    return Math.min(this.max, Math.max(this.min, Math.floor(limit)));
  }
}
