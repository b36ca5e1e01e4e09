// The offline checks of `tsinit check` beyond loading (pure, with the file system's answers
// injected): the programs a service runs exist and can be executed, its env-file can be read,
// its working directory exists. A value that still holds a `$VAR` is only known at start, and
// is not checked.
import { DEFAULT_PATH } from "../base/process.ts";
import type { ServiceSpec } from "../base/service-spec.ts";
import type { Diagnostic } from "./diagnostic.ts";
import { settingKey } from "./parse.ts";

export type ProbeResult = "ok" | "missing" | "denied" | "not-a-file" | "not-a-directory";

export interface CheckProbe {
  executable(path: string): ProbeResult;
  readable(path: string): ProbeResult;
  directory(path: string): ProbeResult;
}

const WHY: Record<Exclude<ProbeResult, "ok">, string> = {
  missing: "does not exist",
  denied: "is not allowed (permissions)",
  "not-a-file": "is not a regular file",
  "not-a-directory": "is not a directory",
};

/** `$` that is not `$$`: a reference substituted at start. */
const hasReference = (value: string): boolean => /\$(?!\$)/.test(value.replaceAll("$$", ""));
const unescape = (value: string): string => value.replaceAll("$$", "$");

/** The problems of one loaded service that only the file system can tell. */
export function checkFiles(spec: ServiceSpec, probe: CheckProbe, path = DEFAULT_PATH): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (setting: string, message: string): void => {
    const origin = spec.origins?.[settingKey(setting)];
    out.push({ severity: "error", file: origin?.file ?? spec.file, line: origin?.line ?? 0, setting, message });
  };
  const runs = spec.type === "process" || spec.type === "bgprocess" || spec.type === "scripted";
  if (!runs) return out;
  const workingDir = spec.workingDir !== undefined && !hasReference(spec.workingDir) ? unescape(spec.workingDir) : undefined;
  if (workingDir !== undefined) {
    const found = probe.directory(workingDir);
    if (found !== "ok") at("working-dir", `${JSON.stringify(workingDir)} ${WHY[found]}`);
  }
  for (const [setting, argv] of [["command", spec.command], ["stop-command", spec.stopCommand]] as const) {
    const program = argv?.[0];
    if (program === undefined || hasReference(program)) continue;
    const problem = programProblem(unescape(program), workingDir, probe, path);
    if (problem !== undefined) at(setting, problem);
  }
  if (spec.envFile !== undefined && !hasReference(spec.envFile)) {
    const file = unescape(spec.envFile);
    const found = probe.readable(file);
    if (found !== "ok") at("env-file", `${JSON.stringify(file)} cannot be read: it ${WHY[found]}`);
  }
  return out;
}

/** As execvp looks: a name with a slash as it is (from the working directory), else along PATH. */
function programProblem(program: string, workingDir: string | undefined, probe: CheckProbe, path: string): string | undefined {
  if (program.includes("/")) {
    const full = program.startsWith("/") || workingDir === undefined ? program : `${workingDir}/${program}`;
    const found = probe.executable(full);
    return found === "ok" ? undefined : `${JSON.stringify(full)} cannot be executed: it ${WHY[found]}`;
  }
  let denied = false;
  for (const dir of path.split(":")) {
    const found = probe.executable(`${dir || "."}/${program}`);
    if (found === "ok") return undefined;
    if (found !== "missing") denied = true;
  }
  return denied ? `${JSON.stringify(program)} is in PATH but cannot be executed` : `${JSON.stringify(program)} is not in PATH (${path})`;
}
