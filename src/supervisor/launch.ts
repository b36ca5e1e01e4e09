// Turns a spawn action and the service's spec into a SpawnRequest: the environment (tsinit's,
// then the env-file), `$VAR` substitution, run-as, rlimits, and the readiness pipe or
// NOTIFY_SOCKET. Each step that can fail names itself, so the user reads
// "env-file: /etc/x.env: cannot be read", not "failed".
import { parseEnvFile } from "../config/env-file.ts";
import { resolveRunAs } from "../config/passwd.ts";
import { substituteValue, substituteVars } from "../config/substitute.ts";
import type { Action } from "../core/events.ts";
import type { ServiceSpec } from "../base/service-spec.ts";
import type { SpawnRequest, Sys } from "../sys/sys.ts";
import type { RLimitSetting, SpawnStage, StdioSpec } from "../base/process.ts";

export interface LaunchContext {
  sys: Sys;
  /** tsinit's own environment, which every service starts from. */
  env: Readonly<Record<string, string>>;
  /** The NOTIFY_SOCKET path given to `ready-notification = notify` services. */
  notifySocket?: string;
  /** The listening socket of a socket-listen service, passed as fd 3. */
  activationFd?: number;
}

export type Prepared =
  | {
      ok: true;
      request: SpawnRequest;
      /** The read end of the readiness pipe, to watch once the child runs. */
      readinessFd?: number;
      /** The read end of the output pipe of a `log-type = buffer` service. */
      outputFd?: number;
      /** Parent-side descriptors to close after the spawn. */
      closeAfterSpawn: number[];
    }
  | { ok: false; stage: SpawnStage; error: string };

/** An env-file is read up to this many bytes; a larger one fails the start. */
const ENV_FILE_MAX_BYTES = 1024 * 1024;

/** Where the activation socket goes (systemd's SD_LISTEN_FDS_START). */
const LISTEN_FD = 3;

export function prepareSpawn(spec: ServiceSpec, action: Extract<Action, { kind: "spawn" }>, context: LaunchContext): Prepared {
  const { sys } = context;
  // Null prototype: variable names come from env-files, and `__proto__` must be a variable.
  const env: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, context.env);

  if (spec.envFile !== undefined) {
    const path = substituteValue(spec.envFile, env);
    // Non-blocking, regular files only, capped: a FIFO or /dev/zero must not stop PID 1.
    const text = sys.readRegularFile(path, ENV_FILE_MAX_BYTES);
    if (typeof text !== "string") return { ok: false, stage: "env-file", error: `${path}: cannot be read: ${text.reason}` };
    const parsed = parseEnvFile(text, path);
    if (!parsed.ok) return { ok: false, stage: "env-file", error: parsed.error };
    Object.assign(env, parsed.vars);
  }

  let credentials: SpawnRequest["credentials"];
  if (spec.runAs !== undefined) {
    const resolved = resolveRunAs(spec.runAs, sys.readFile("/etc/passwd"), sys.readFile("/etc/group"));
    if (!resolved.ok) return { ok: false, stage: "run-as", error: resolved.error };
    credentials = resolved.credentials;
  }

  let outputFd: number | undefined;
  const closeAfterSpawn: number[] = [];
  let stdout: StdioSpec;
  if (action.stdout.kind === "buffer") {
    const pipe = sys.pipe();
    if (!("read" in pipe)) return { ok: false, stage: "output", error: pipe.message };
    outputFd = pipe.read;
    closeAfterSpawn.push(pipe.write);
    stdout = { kind: "fd", fd: pipe.write };
  } else {
    stdout = logfileOwner(substituteStdio(action.stdout, env), spec, credentials, sys);
  }
  const failed = (stage: SpawnStage, error: string): Prepared => {
    for (const fd of [...closeAfterSpawn, ...(outputFd === undefined ? [] : [outputFd])]) sys.close(fd);
    return { ok: false, stage, error };
  };

  const request: SpawnRequest = {
    argv: substituteVars(action.argv, env),
    env,
    cwd: action.cwd === undefined ? undefined : substituteValue(action.cwd, env),
    stdin: action.stdin,
    stdout,
    credentials,
    rlimits: rlimits(spec),
  };
  if (action.role === "main" && context.activationFd !== undefined) {
    request.passFds = [{ fd: context.activationFd, target: LISTEN_FD }];
    env.LISTEN_FDS = "1";
    request.setListenPid = true;
  }

  if (action.role !== "main" || spec.readyNotification === undefined) return { ok: true, request, outputFd, closeAfterSpawn };
  const ready = spec.readyNotification;
  if (ready.kind === "notify") {
    if (context.notifySocket === undefined) return failed("readiness", "no NOTIFY_SOCKET listener");
    env.NOTIFY_SOCKET = context.notifySocket;
    return { ok: true, request, outputFd, closeAfterSpawn };
  }
  // pipevar's fd is ours to choose: the first one after the activation socket, if any.
  const target = ready.kind === "pipefd" ? ready.fd : context.activationFd === undefined ? LISTEN_FD : LISTEN_FD + 1;
  if (context.activationFd !== undefined && target === LISTEN_FD) {
    return failed("readiness", `fd ${LISTEN_FD} is the socket-listen socket; pick another pipefd`);
  }
  const pipe = sys.pipe();
  if (!("read" in pipe)) return failed("readiness", pipe.message);
  if (ready.kind === "pipevar") env[ready.variable] = String(target);
  request.passFds = [...(request.passFds ?? []), { fd: pipe.write, target }];
  return { ok: true, request, readinessFd: pipe.read, outputFd, closeAfterSpawn: [...closeAfterSpawn, pipe.write] };
}

function substituteStdio(stdio: StdioSpec, env: Record<string, string>): StdioSpec {
  return stdio.kind === "file" ? { ...stdio, path: substituteValue(stdio.path, env) } : stdio;
}

/**
 * dinit's logfile-permissions, logfile-uid and logfile-gid: the log file's mode, and its owner,
 * by default the run-as user and group; a logfile-uid alone brings that user's primary group.
 */
function logfileOwner(stdio: StdioSpec, spec: ServiceSpec, credentials: SpawnRequest["credentials"], sys: Sys): StdioSpec {
  if (stdio.kind !== "file") return stdio;
  const uid = spec.logfileUid ?? credentials?.uid;
  let gid = spec.logfileGid;
  if (gid === undefined && spec.logfileUid !== undefined) {
    const user = resolveRunAs({ user: String(spec.logfileUid) }, sys.readFile("/etc/passwd"), sys.readFile("/etc/group"));
    gid = user.ok ? user.credentials.gid : undefined;
  }
  gid ??= spec.logfileUid === undefined ? credentials?.gid : undefined;
  return { ...stdio, mode: spec.logfilePermissions, uid, gid };
}

function rlimits(spec: ServiceSpec): RLimitSetting[] | undefined {
  const limits: RLimitSetting[] = [];
  if (spec.rlimitNofile !== undefined) limits.push({ resource: "nofile", ...spec.rlimitNofile });
  if (spec.rlimitCore !== undefined) limits.push({ resource: "core", ...spec.rlimitCore });
  if (spec.rlimitData !== undefined) limits.push({ resource: "data", ...spec.rlimitData });
  return limits.length === 0 ? undefined : limits;
}
