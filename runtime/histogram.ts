/**
 * Histograms recorded without allocating per observation: each label set gets its bucket counts
 * once (a Float64Array), and prom-client's registry renders them at scrape time. prom-client's own
 * Histogram hashes its labels on every observe, which costs more than the rest of a gated call.
 */
import type { Registry } from "prom-client";

/** One label set's counts. */
export class HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  private readonly bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[], labels: Readonly<Record<string, string>>) {
    this.bounds = bounds;
    this.labels = labels;
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** A histogram metric on a prom-client registry, its series found by a key the caller builds. */
export class LabelledHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, HistogramSeries>();

  constructor(options: { name: string; help: string; buckets: readonly number[]; registers: Registry[] }) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = options.buckets;
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  /** The series of `key`, if it was made. (Looked up first, so the hot path allocates nothing.) */
  find(key: string): HistogramSeries | undefined {
    return this.series.get(key);
  }

  /** A new series for `key` with these labels. */
  add(key: string, labels: Record<string, string>): HistogramSeries {
    const series = new HistogramSeries(this.bounds, labels);
    this.series.set(key, series);
    return series;
  }

  /** What prom-client's registry renders: cumulative buckets, +Inf, sum and count per series. */
  get(): { name: string; help: string; type: string; values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> } {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: bound }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: "+Inf" }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...series.labels }, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...series.labels }, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, values };
  }
}
