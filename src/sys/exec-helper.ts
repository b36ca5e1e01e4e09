// tsinit's exec helper: what posix_spawn cannot do between fork and exec. A service with
// run-as or rlimit-* is spawned as `tsinit --exec-helper SETTINGS PATH ARGV...`; this sets
// the limits, the groups, the gid and the uid, resets the signal state Bun left, and execs
// PATH. A failure is told on stderr by stage and errno and ends with 126/127 as a shell would.
import { errnoName } from "../base/errno.ts";
import { cstr, cstrArray, errno, libc } from "./libc.ts";
import type { Credentials, RLimitSetting } from "../base/process.ts";

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
}

export function runExecHelper(args: string[]): never {
  const [settingsJson = "{}", path = "", ...argv] = args;
  const fail = (stage: string, code = errno()): never => {
    process.stderr.write(`tsinit: ${stage}: ${errnoName(code)}\n`);
    process.exit(code === 2 ? 127 : 126);
  };
  const settings = JSON.parse(settingsJson) as HelperSettings;

  const empty = new Uint8Array(128);
  libc.sigemptyset(empty);
  libc.sigprocmask(SIG_SETMASK, empty, null);
  for (let signal = 1; signal < 32; signal++) if (signal !== 9 && signal !== 19) libc.signal(signal, 0);

  for (const limit of settings.rlimits ?? []) {
    const values = new BigUint64Array(2);
    if (libc.getrlimit(RLIMIT[limit.resource], values) === -1) fail(`getrlimit ${limit.resource}`);
    const toC = (value: number | undefined, current: bigint) =>
      value === undefined ? current : value === -1 || value === Infinity ? RLIM_INFINITY : BigInt(value);
    values[0] = toC(limit.soft, values[0]!);
    values[1] = toC(limit.hard, values[1]!);
    if (libc.setrlimit(RLIMIT[limit.resource], values) === -1) fail(`setrlimit ${limit.resource}`);
  }
  const ids = settings.credentials;
  if (ids !== undefined) {
    const groups = new Uint32Array(Math.max(1, ids.groups.length));
    groups.set(ids.groups);
    if (libc.setgroups(ids.groups.length, groups) === -1) fail("setgroups");
    if (libc.setgid(ids.gid) === -1) fail(`setgid ${ids.gid}`);
    if (libc.setuid(ids.uid) === -1) fail(`setuid ${ids.uid}`);
  }
  if (settings.cwd !== undefined && libc.chdir(cstr(settings.cwd)) === -1) fail(`changing directory to ${settings.cwd}`);
  const argvC = cstrArray(argv);
  const env = { ...process.env };
  if (settings.listenPid) env.LISTEN_PID = String(process.pid);
  const envC = cstrArray(Object.entries(env).map(([key, value]) => `${key}=${value ?? ""}`));
  libc.execve(cstr(path), argvC.array, envC.array);
  return fail(`executing ${path}`);
}
