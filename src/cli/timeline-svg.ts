// The boot timeline as an SVG picture (`initctl analyze --svg`): a bar a service from when it
// began starting to when it was started, a mark where it said it was ready, a line on while it
// ran, and an arrow from each dependency's start to the dependent's. Pure.
import type { TimelineRow } from "../log/timeline.ts";

const ROW = 22;
const LABEL = 170;
const WIDTH = 1000;
const TOP = 30;

function escape(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function timelineSvg(rows: readonly TimelineRow[]): string {
  const times = rows.flatMap((row) => [row.starting, row.started, row.ready, row.stopped].filter((t): t is number => t !== undefined));
  const first = times.length > 0 ? Math.min(...times) : 0;
  const last = Math.max(...times, first + 1);
  const span = last - first;
  const x = (t: number) => LABEL + ((t - first) / span) * (WIDTH - LABEL - 20);
  const y = (index: number) => TOP + index * ROW;
  const index = new Map(rows.map((row, i) => [row.service, i]));
  const height = TOP + rows.length * ROW + 20;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="12">`,
    `<defs><marker id="arrow" markerWidth="6" markerHeight="6" refX="5" refY="3" orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#888"/></marker></defs>`,
    `<text x="4" y="16">tsinit boot timeline: ${(first / 1000).toFixed(2)} s to ${(last / 1000).toFixed(2)} s after the kernel started</text>`,
  ];
  rows.forEach((row, i) => {
    const top = y(i);
    const start = row.starting ?? first;
    const end = row.started ?? row.stopped ?? last;
    const color = row.failed !== undefined ? "#d33" : "#4a7";
    parts.push(`<g><title>${escape(`${row.service}: ${describe(row)}`)}</title>`);
    parts.push(`<text x="4" y="${top + 15}">${escape(row.service)}</text>`);
    if (row.started !== undefined) {
      const until = row.stopped ?? last;
      parts.push(`<line x1="${x(row.started).toFixed(1)}" y1="${top + 11}" x2="${x(until).toFixed(1)}" y2="${top + 11}" stroke="#bbb" stroke-width="2"/>`);
    }
    parts.push(`<rect x="${x(start).toFixed(1)}" y="${top + 4}" width="${Math.max(2, x(end) - x(start)).toFixed(1)}" height="14" fill="${color}"/>`);
    if (row.ready !== undefined) parts.push(`<circle cx="${x(row.ready).toFixed(1)}" cy="${top + 11}" r="4" fill="#26c"/>`);
    parts.push("</g>");
  });
  for (const row of rows) {
    const to = index.get(row.service)!;
    for (const dependency of row.dependsOn) {
      const from = index.get(dependency);
      const source = from === undefined ? undefined : rows[from]!;
      if (source === undefined || row.starting === undefined) continue;
      const x1 = x(source.started ?? source.starting ?? first);
      parts.push(`<line x1="${x1.toFixed(1)}" y1="${y(from!) + 18}" x2="${x(row.starting).toFixed(1)}" y2="${y(to) + 4}" stroke="#888" stroke-width="1" marker-end="url(#arrow)"/>`);
    }
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function describe(row: TimelineRow): string {
  const at = (t: number | undefined) => (t === undefined ? "-" : `${(t / 1000).toFixed(3)} s`);
  return `starting ${at(row.starting)}, started ${at(row.started)}, ready ${at(row.ready)}, stopped ${at(row.stopped)}${row.failed ? `, failed: ${row.failed}` : ""}`;
}

/** The timeline as a table for people. */
export function timelineTable(rows: readonly TimelineRow[]): string {
  const at = (t: number | undefined) => (t === undefined ? "-" : (t / 1000).toFixed(3));
  const took = (row: TimelineRow) => (row.starting !== undefined && row.started !== undefined ? `${Math.round(row.started - row.starting)} ms` : "-");
  const lines = [["SERVICE", "STARTING", "STARTED", "TOOK", "READY", "STOPPED", "DEPENDS ON"]];
  for (const row of rows) lines.push([row.service, at(row.starting), at(row.started), took(row), at(row.ready), at(row.stopped), row.dependsOn.join(",") || "-"]);
  const widths = lines[0]!.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  const text = lines.map((line) => line.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd());
  return `${text.join("\n")}\n(seconds since the kernel started)`;
}
