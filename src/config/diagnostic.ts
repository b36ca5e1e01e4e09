// A problem found while reading service descriptions. Config errors carry file, line and setting
// (STYLE.md rule 5) so that the one place that prints them can say exactly where to look.

export type Severity = "error" | "warning";

export interface Diagnostic {
  severity: Severity;
  /** The description file (or directory) the problem is in. */
  file: string;
  /** 1-based line number; 0 when the problem concerns the whole file or directory. */
  line: number;
  /** The setting the problem is about, when there is one. */
  setting?: string;
  message: string;
}

/**
 * Render a diagnostic as `file:line: setting: message`, the shape compilers use so that editors
 * can jump to it. The line is left out when it is 0 and the setting when there is none; the
 * severity is left to the logger, which has its own levels.
 */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  const what = d.setting !== undefined ? `${d.setting}: ${d.message}` : d.message;
  return `${where}: ${what}`;
}

/** True when any of the diagnostics is an error (the service does not load). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}
