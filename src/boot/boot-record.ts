// What happened during boot, stage by stage: init's log lines and the timed steps of the boot
// plans (early mounts, modules, the root device, switch_root). The initramfs stage hands its
// record to the real root's tsinit through a file in /run, so `initctl boot` there shows both
// stages on one clock (milliseconds since the kernel started). Pure.
import type { LogLevel } from "../base/logging.ts";
import type { Sys } from "../sys/sys.ts";
import type { PlanStep } from "./early-mounts.ts";

export type BootStage = "initramfs" | "root";

export interface BootEntry {
  stage: BootStage;
  /** Milliseconds since the kernel started. */
  at: number;
  kind: "log" | "step";
  text: string;
  /** log: its level. */
  level?: LogLevel;
  /** step: how long it took, and whether it worked. */
  ms?: number;
  ok?: boolean;
}

/** Entries kept per stage: a boot that logs without end must not grow PID 1 without end. */
export const MAX_ENTRIES_PER_STAGE = 2_000;

/** The environment variable that gives the real root's tsinit the initramfs stage's record. */
export const HANDOFF_ENV = "TSINIT_INITRAMFS_RECORD";
export const HANDOFF_PATH = "/run/tsinit/initramfs-record.json";

export class BootRecord {
  private earlier: BootEntry[] = [];
  private readonly own: BootEntry[] = [];
  private dropped = 0;
  private closed = false;

  constructor(
    readonly stage: BootStage,
    private readonly now: () => number,
    /** Told of each step as it is recorded (the event log). */
    private readonly onStep?: (entry: BootEntry) => void,
  ) {}

  /** The entries of the stage before this one (the initramfs's, read from the hand-off file). */
  prepend(entries: readonly BootEntry[]): void {
    this.earlier = [...entries];
  }

  log(level: LogLevel, text: string): void {
    this.add({ stage: this.stage, at: this.now(), kind: "log", level, text });
  }

  /** Runs `body` as a timed step; its result is whether it worked. */
  step<T>(text: string, body: () => T, worked: (result: T) => boolean = () => true): T {
    const at = this.now();
    const result = body();
    this.add({ stage: this.stage, at, kind: "step", text, ms: this.now() - at, ok: worked(result) });
    return result;
  }

  /** A step timed by the caller (an asynchronous one). */
  stepDone(text: string, startedAt: number, ok: boolean): void {
    this.add({ stage: this.stage, at: startedAt, kind: "step", text, ms: this.now() - startedAt, ok });
  }

  /** The boot is over: from now on nothing more is recorded. */
  close(): void {
    this.closed = true;
  }

  entries(): BootEntry[] {
    const own = this.dropped === 0 ? this.own : [...this.own, { stage: this.stage, at: this.now(), kind: "log" as const, level: "warn" as const, text: `${this.dropped} more entries were not kept` }];
    return [...this.earlier, ...own];
  }

  private add(entry: BootEntry): void {
    if (this.closed) return;
    if (this.own.length >= MAX_ENTRIES_PER_STAGE) this.dropped++;
    else this.own.push(entry);
    if (entry.kind === "step") this.onStep?.(entry);
  }
}

/** Serialised for the hand-off file. */
export function serializeRecord(entries: readonly BootEntry[]): string {
  return JSON.stringify({ version: 1, entries });
}

/**
 * The entries of a hand-off file; anything malformed is dropped rather than trusted (the file is
 * root's, in /run, but a record is not worth failing a boot over).
 */
export function parseRecord(text: string): BootEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return [];
  }
  const entries = (data as { entries?: unknown })?.entries;
  if (!Array.isArray(entries)) return [];
  const kept: BootEntry[] = [];
  for (const entry of entries.slice(0, MAX_ENTRIES_PER_STAGE)) {
    if (typeof entry !== "object" || entry === null) continue;
    const { stage, at, kind, text, level, ms, ok } = entry as Record<string, unknown>;
    if ((stage !== "initramfs" && stage !== "root") || typeof at !== "number" || (kind !== "log" && kind !== "step") || typeof text !== "string") continue;
    const clean: BootEntry = { stage, at, kind, text: text.slice(0, 4096) };
    if (level === "error" || level === "warn" || level === "info" || level === "debug") clean.level = level;
    if (typeof ms === "number") clean.ms = ms;
    if (typeof ok === "boolean") clean.ok = ok;
    kept.push(clean);
  }
  return kept;
}

/** `[   1.234] initramfs  mount -t ext4 -o ro /dev/vda /sysroot  (12 ms)`: for `initctl boot`. */
export function formatEntries(entries: readonly BootEntry[]): string[] {
  return entries.map((entry) => {
    const time = `[${(entry.at / 1000).toFixed(3).padStart(8)}]`;
    const stage = entry.stage.padEnd(9);
    if (entry.kind === "step") {
      const how = entry.ok === false ? "FAILED, " : "";
      return `${time} ${stage} ${entry.text}  (${how}${Math.round(entry.ms ?? 0)} ms)`;
    }
    const level = entry.level === "error" || entry.level === "warn" ? `${entry.level}: ` : "";
    return `${time} ${stage} ${level}${entry.text}`;
  });
}

/** The same steps, each timed into `record` as it runs. */
export function recordedSteps<T extends PlanStep>(record: BootRecord, steps: readonly T[]): T[] {
  return steps.map((step) => ({ ...step, run: (sys: Sys) => record.step(step.describe(), () => step.run(sys), (error) => error === undefined) }));
}
