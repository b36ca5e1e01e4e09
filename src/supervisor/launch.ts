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
import type { ProcessAttributes, RLimitSetting, SpawnStage, StdioSpec } from "../base/process.ts";
import { ioprioValue } from "../base/capabilities.ts";

export interface LaunchContext {
  sys: Sys;
  /** tsinit's own environment, which every service starts from. */
  env: Readonly<Record<string, string>>;
  /** The NOTIFY_SOCKET path given to `ready-notification = notify` services. */
  notifySocket?: string;
  /** The listening socket of a socket-listen service, passed as fd 3. */
  activationFd?: number;
  /**
   * The pipe of a `log-type = pipe` producer, kept by tsinit across restarts of both sides
   * (consumer-of), or why there is none.
   */
  logPipe?: (producer: string) => { read: number; write: number } | string;
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

  // dinit's load-options: the run-as user's passwd entry (tsinit's own user without run-as),
  // and the service's name; an env-file may still override them.
  if (spec.exportPasswdVars === true) {
    const user = resolveRunAs(spec.runAs ?? { user: String(sys.getuid()) }, sys.readFile("/etc/passwd"), sys.readFile("/etc/group"));
    if (!user.ok) return { ok: false, stage: "run-as", error: `export-passwd-vars: ${user.error}` };
    if (user.name === undefined) return { ok: false, stage: "run-as", error: `export-passwd-vars: uid ${user.credentials.uid} has no /etc/passwd entry` };
    Object.assign(env, { USER: user.name, LOGNAME: user.name, HOME: user.home ?? "/", SHELL: user.shell ?? "/bin/sh", UID: String(user.credentials.uid), GID: String(user.credentials.gid) });
  }
  if (spec.exportServiceName === true) env.DINIT_SERVICENAME = spec.name;

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
  let stdin = action.stdin;
  // consumer-of: the main process reads the producer's pipe (a console option wins, as for output).
  if (action.role === "main" && spec.consumerOf !== undefined && stdin.kind === "null") {
    const pipe = context.logPipe?.(spec.consumerOf) ?? "no pipes here";
    if (typeof pipe === "string") return { ok: false, stage: "consumer-of", error: pipe };
    stdin = { kind: "fd", fd: pipe.read };
  }
  if (action.stdout.kind === "pipe") {
    const pipe = context.logPipe?.(spec.name) ?? "no pipes here";
    if (typeof pipe === "string") return { ok: false, stage: "output", error: pipe };
    stdout = { kind: "fd", fd: pipe.write };
  } else if (action.stdout.kind === "buffer") {
    const pipe = sys.pipe();
    if (!("read" in pipe)) return { ok: false, stage: "output", error: pipe.message };
    outputFd = pipe.read;
    closeAfterSpawn.push(pipe.write);
    stdout = { kind: "fd", fd: pipe.write };
  } else {
    const owned = logfileOwner(substituteStdio(action.stdout, env), spec, credentials, sys);
    if (typeof owned === "string") return { ok: false, stage: "output", error: owned };
    stdout = owned;
  }
  const failed = (stage: SpawnStage, error: string): Prepared => {
    for (const fd of [...closeAfterSpawn, ...(outputFd === undefined ? [] : [outputFd])]) sys.close(fd);
    return { ok: false, stage, error };
  };

  const request: SpawnRequest = {
    argv: substituteVars(action.argv, env),
    env,
    cwd: action.cwd === undefined ? undefined : substituteValue(action.cwd, env),
    stdin,
    stdout,
    credentials,
    rlimits: rlimits(spec),
    attributes: attributes(spec),
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
 * Names are looked up in /etc/passwd and /etc/group; one that is not there fails the start.
 */
function logfileOwner(stdio: StdioSpec, spec: ServiceSpec, credentials: SpawnRequest["credentials"], sys: Sys): StdioSpec | string {
  if (stdio.kind !== "file") return stdio;
  const passwd = () => sys.readFile("/etc/passwd");
  const groups = () => sys.readFile("/etc/group");
  const userText = spec.logfileUser ?? (spec.logfileUid === undefined ? undefined : String(spec.logfileUid));
  let uid = credentials?.uid;
  let gid = credentials?.gid;
  if (userText !== undefined) {
    const user = resolveRunAs({ user: userText }, passwd(), groups());
    if (!user.ok && spec.logfileUser !== undefined) return `logfile-uid: ${user.error}`;
    uid = spec.logfileUid ?? (user.ok ? user.credentials.uid : undefined);
    gid = user.ok ? user.credentials.gid : undefined;
  }
  const groupText = spec.logfileGroup ?? (spec.logfileGid === undefined ? undefined : String(spec.logfileGid));
  if (groupText !== undefined) {
    const group = resolveRunAs({ user: "0", group: groupText }, passwd(), groups());
    if (!group.ok) return `logfile-gid: ${group.error}`;
    gid = group.credentials.gid;
  }
  return { ...stdio, mode: spec.logfilePermissions, uid, gid };
}

/**
 * dinit's socket-uid and socket-gid: the activation socket's owner; a user name alone brings
 * that user's primary group. A name not in /etc/passwd or /etc/group is an error.
 */
export function socketOwner(spec: ServiceSpec, sys: Sys): { uid?: number; gid?: number } | string {
  const owner: { uid?: number; gid?: number } = { uid: spec.socketUid, gid: spec.socketGid };
  if (spec.socketUser !== undefined) {
    const user = resolveRunAs({ user: spec.socketUser }, sys.readFile("/etc/passwd"), sys.readFile("/etc/group"));
    if (!user.ok) return `socket-uid: ${user.error}`;
    owner.uid = user.credentials.uid;
    if (spec.socketGid === undefined && spec.socketGroup === undefined) owner.gid = user.credentials.gid;
  }
  if (spec.socketGroup !== undefined) {
    const group = resolveRunAs({ user: "0", group: spec.socketGroup }, sys.readFile("/etc/passwd"), sys.readFile("/etc/group"));
    if (!group.ok) return `socket-gid: ${group.error}`;
    owner.gid = group.credentials.gid;
  }
  return owner;
}

/** What the exec helper sets besides ids and limits; undefined when nothing (no helper needed). */
export function attributes(spec: ServiceSpec): ProcessAttributes | undefined {
  const set: ProcessAttributes = {};
  if (spec.nice !== undefined) set.nice = spec.nice;
  if (spec.ioPriority !== undefined) set.ioprio = ioprioValue(spec.ioPriority);
  if (spec.oomScoreAdj !== undefined) set.oomScoreAdj = spec.oomScoreAdj;
  if (spec.runInCgroup !== undefined) set.cgroup = spec.runInCgroup;
  if (spec.capabilities !== undefined) set.capabilities = spec.capabilities;
  if (spec.securebits !== undefined) set.securebits = spec.securebits;
  if (spec.options.has("no-new-privs")) set.noNewPrivs = true;
  return Object.keys(set).length === 0 ? undefined : set;
}

function rlimits(spec: ServiceSpec): RLimitSetting[] | undefined {
  const limits: RLimitSetting[] = [];
  if (spec.rlimitNofile !== undefined) limits.push({ resource: "nofile", ...spec.rlimitNofile });
  if (spec.rlimitCore !== undefined) limits.push({ resource: "core", ...spec.rlimitCore });
  if (spec.rlimitData !== undefined) limits.push({ resource: "data", ...spec.rlimitData });
  if (spec.rlimitAddrspace !== undefined) limits.push({ resource: "addrspace", ...spec.rlimitAddrspace });
  return limits.length === 0 ? undefined : limits;
}
