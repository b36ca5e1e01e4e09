// tsinit's exec helper: what posix_spawn cannot do between fork and exec. A service with
// run-as, rlimit-* or socket-listen is spawned as `tsinit --exec-helper SETTINGS PATH ARGV...`;
// this sets the limits, the groups, the gid and the uid, resets the signal state Bun left, and
// execs PATH. As dinit's child does, it reports a failure to the supervisor by stage and errno
// on a status pipe that exec closes (close-on-exec), so the supervisor learns that exec
// succeeded from the pipe closing empty. A failure is also told on stderr (the service's log)
// and ends with 126/127 as a shell would.
import { errnoName } from "../base/errno.ts";
import { DEFAULT_PATH, type Credentials, type RLimitSetting, type SpawnStage } from "../base/process.ts";
import { cstr, cstrArray, errno, libc } from "./libc.ts";

export const EXEC_HELPER_FLAG = "--exec-helper";

const RLIMIT: Record<RLimitSetting["resource"], number> = { data: 2, core: 4, nofile: 7 };
const RLIM_INFINITY = 0xffffffffffffffffn;
const SIG_SETMASK = 2;

interface HelperSettings {
  credentials?: Credentials;
  rlimits?: RLimitSetting[];
  /** Socket activation: LISTEN_PID is this process's pid, which exec keeps. */
  listenPid?: boolean;
  /** The working directory, entered after the ids change so the user's rights apply. */
  cwd?: string;
  /** The write end of the status pipe. */
  statusFd?: number;
}

/** ioctl(FIOCLEX): close-on-exec, so the status pipe closes when exec succeeds. */
const FIOCLEX = 0x5451;

export function runExecHelper(args: string[]): never {
  const [settingsJson = "{}", path = "", ...argv] = args;
  const settings = JSON.parse(settingsJson) as HelperSettings;
  const statusFd = settings.statusFd;
  if (statusFd !== undefined) libc.ioctl(statusFd, FIOCLEX, 0);
  /** `call` is the failing call as the user reads it: `setuid(1000)`, or the program for exec. */
  const fail = (stage: SpawnStage, call: string, code = errno()): never => {
    const detail = `${call}: ${errnoName(code)}`;
    if (statusFd !== undefined) writeAll(statusFd, `${JSON.stringify({ stage, detail })}\n`);
    process.stderr.write(`tsinit: ${stage === "exec" ? `exec ${detail}` : `${stage}: ${detail}`}\n`);
    process.exit(code === 2 ? 127 : 126);
  };

  const empty = new Uint8Array(128);
  libc.sigemptyset(empty);
  libc.sigprocmask(SIG_SETMASK, empty, null);
  for (let signal = 1; signal < 32; signal++) if (signal !== 9 && signal !== 19) libc.signal(signal, 0);

  for (const limit of settings.rlimits ?? []) {
    const values = new BigUint64Array(2);
    if (libc.getrlimit(RLIMIT[limit.resource], values) === -1) fail("rlimits", `getrlimit(${limit.resource})`);
    const toC = (value: number | undefined, current: bigint) =>
      value === undefined ? current : value === -1 || value === Infinity ? RLIM_INFINITY : BigInt(value);
    values[0] = toC(limit.soft, values[0]!);
    values[1] = toC(limit.hard, values[1]!);
    if (libc.setrlimit(RLIMIT[limit.resource], values) === -1) fail("rlimits", `setrlimit(${limit.resource})`);
  }
  const ids = settings.credentials;
  if (ids !== undefined) {
    const groups = new Uint32Array(Math.max(1, ids.groups.length));
    groups.set(ids.groups);
    if (libc.setgroups(ids.groups.length, groups) === -1) fail("run-as", `setgroups(${ids.groups.join(",")})`);
    if (libc.setgid(ids.gid) === -1) fail("run-as", `setgid(${ids.gid})`);
    if (libc.setuid(ids.uid) === -1) fail("run-as", `setuid(${ids.uid})`);
  }
  if (settings.cwd !== undefined && libc.chdir(cstr(settings.cwd)) === -1) fail("working-dir", `chdir(${settings.cwd})`);
  const argvC = cstrArray(argv);
  const env = { ...process.env };
  if (settings.listenPid) env.LISTEN_PID = String(process.pid);
  const envC = cstrArray(Object.entries(env).map(([key, value]) => `${key}=${value ?? ""}`));
  if (path.includes("/")) {
    libc.execve(cstr(path), argvC.array, envC.array);
    return fail("exec", path);
  }
  // A bare name is looked up in PATH here, with the ids already dropped, as execvp does: go on
  // past a candidate that cannot be run, and report EACCES only if nothing else is found.
  let denied = false;
  for (const dir of (env.PATH ?? DEFAULT_PATH).split(":")) {
    libc.execve(cstr(`${dir || "."}/${path}`), argvC.array, envC.array);
    const code = errno();
    if (code === EACCES) denied = true;
    else if (code !== ENOENT && code !== ENOTDIR) return fail("exec", path, code);
  }
  return fail("exec", path, denied ? EACCES : ENOENT);
}

const ENOENT = 2;
const EACCES = 13;
const ENOTDIR = 20;

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  libc.write(fd, bytes, bytes.length);
}
