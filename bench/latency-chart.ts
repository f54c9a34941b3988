// The latency distributions before and after as one small SVG: for each example, the share of
// requests answered within t (a cumulative curve, log time axis), legacy next to migrated.
// Hand-written: a chart library would be a large dependency for two step curves.

export interface Series {
  name: string;
  colour: string;
  latenciesMs: number[];
  /** Requests that got no answer before the client gave up; they keep the curve below 100 %. */
  timeouts: number;
}

export interface Panel {
  title: string;
  series: Series[];
  /** Shown instead of the curves. */
  skipped?: string;
}

const PANEL_WIDTH = 440;
const PANEL_HEIGHT = 320;
const MARGIN = { left: 52, right: 26, top: 40, bottom: 84 };
const MIN_MS = 50;
const TICKS_MS = [50, 100, 200, 500, 1000, 2000, 5000];

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function panelSvg(panel: Panel, offsetX: number, maxMs: number): string {
  const plotWidth = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (ms: number) => MARGIN.left + (Math.log(Math.max(ms, MIN_MS) / MIN_MS) / Math.log(maxMs / MIN_MS)) * plotWidth;
  const y = (share: number) => MARGIN.top + (1 - share) * plotHeight;
  const parts: string[] = [`<g transform="translate(${offsetX},0)">`];
  parts.push(`<text x="${MARGIN.left}" y="22" font-weight="bold">${escape(panel.title)}</text>`);
  if (panel.skipped) {
    parts.push(`<text x="${MARGIN.left}" y="${MARGIN.top + plotHeight / 2}" fill="#666">${escape(panel.skipped)}</text></g>`);
    return parts.join("\n");
  }
  for (const share of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(share)}" y2="${y(share)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y(share) + 4}" text-anchor="end" fill="#555">${share * 100}%</text>`);
  }
  for (const tick of TICKS_MS.filter((t) => t <= maxMs)) {
    parts.push(`<line x1="${x(tick)}" x2="${x(tick)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x(tick)}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle" fill="#555">${tick >= 1000 ? `${tick / 1000} s` : `${tick}`}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight + 30}" text-anchor="middle" fill="#333">response time (ms, log scale): share answered within it</text>`);
  panel.series.forEach((series, index) => {
    const sorted = [...series.latenciesMs].sort((a, b) => a - b);
    const total = sorted.length + series.timeouts;
    // At most ~300 steps: enough for the shape, small enough for a README.
    const stride = Math.max(1, Math.floor(sorted.length / 300));
    let path = `M${x(MIN_MS).toFixed(1)},${y(0).toFixed(1)}`;
    for (let i = 0; i < sorted.length; i += stride) {
      const at = Math.min(i + stride, sorted.length);
      path += ` H${x(sorted[at - 1]!).toFixed(1)} V${y(at / Math.max(total, 1)).toFixed(1)}`;
    }
    path += ` H${x(maxMs).toFixed(1)}`;
    parts.push(`<path d="${path}" fill="none" stroke="${series.colour}" stroke-width="2"/>`);
    const timedOut = total === 0 ? 0 : series.timeouts / total;
    const label = `${series.name}: ${sorted.length} answered${series.timeouts ? `, ${(timedOut * 100).toFixed(0)}% timed out` : ""}`;
    parts.push(`<text x="${MARGIN.left}" y="${MARGIN.top + plotHeight + 48 + index * 15}" fill="${series.colour}" font-weight="bold">${escape(label)}</text>`);
  });
  parts.push("</g>");
  return parts.join("\n");
}

export function latencyChartSvg(panels: Panel[], { maxMs, caption }: { maxMs: number; caption: string }): string {
  const width = PANEL_WIDTH * panels.length;
  const height = PANEL_HEIGHT + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...panels.map((panel, i) => panelSvg(panel, i * PANEL_WIDTH, maxMs)),
    `<text x="${width / 2}" y="${height - 4}" text-anchor="middle" fill="#666" font-size="11">${escape(caption)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
