/**
 * The last minute of finished calls: per-second counts for the rate and error rate, a ring of
 * latency samples for percentiles. Typed arrays, so recording a call allocates nothing.
 */

export const WINDOW_SECONDS = 60;
/** Latency samples kept for percentiles; beyond this the oldest in the window are dropped. */
const MAX_SAMPLES = 8192;

export interface WindowReading {
  rps: number;
  errorRate: number;
  latencyMs: { avg: number; p50: number; p95: number; p99: number };
}

/** Per-second counts for rate, a ring of samples for percentiles. */
export class SlidingWindow {
  private readonly counts = new Float64Array(WINDOW_SECONDS);
  private readonly errors = new Float64Array(WINDOW_SECONDS);
  private readonly seconds = new Float64Array(WINDOW_SECONDS);
  private readonly sampleAt = new Float64Array(MAX_SAMPLES);
  private readonly sampleMs = new Float64Array(MAX_SAMPLES);
  private sampleCount = 0;
  private readonly startedAt = Date.now();

  record(latencyMs: number, failed: boolean, now: number): void {
    const second = Math.floor(now / 1000);
    const slot = second % WINDOW_SECONDS;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts[slot] = 0;
      this.errors[slot] = 0;
    }
    this.counts[slot]!++;
    if (failed) this.errors[slot]!++;
    const index = this.sampleCount++ % MAX_SAMPLES;
    this.sampleAt[index] = now;
    this.sampleMs[index] = latencyMs;
  }

  read(now: number): WindowReading {
    const currentSecond = Math.floor(now / 1000);
    let count = 0;
    let errors = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      if (currentSecond - this.seconds[i]! < WINDOW_SECONDS) {
        count += this.counts[i]!;
        errors += this.errors[i]!;
      }
    }
    const latencies: number[] = [];
    const kept = Math.min(this.sampleCount, MAX_SAMPLES);
    for (let i = 0; i < kept; i++) {
      if (now - this.sampleAt[i]! <= WINDOW_SECONDS * 1000) latencies.push(this.sampleMs[i]!);
    }
    latencies.sort((a, b) => a - b);
    const sum = latencies.reduce((total, value) => total + value, 0);
    // Early on the window is not full yet: divide by the time actually covered.
    const coveredSeconds = Math.min(WINDOW_SECONDS, Math.max(1, (now - this.startedAt) / 1000));
    return {
      rps: round(count / coveredSeconds),
      errorRate: count === 0 ? 0 : round(errors / count),
      latencyMs: {
        avg: latencies.length === 0 ? 0 : round(sum / latencies.length),
        p50: percentile(latencies, 0.5),
        p95: percentile(latencies, 0.95),
        p99: percentile(latencies, 0.99),
      },
    };
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
}

export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

