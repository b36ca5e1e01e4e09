// tsinit's exec helper: what posix_spawn cannot do between fork and exec. A service with
// run-as, rlimit-* or socket-listen is spawned as `tsinit --exec-helper SETTINGS PATH ARGV...`;
// this sets the limits, the groups, the gid and the uid, resets the signal state Bun left, and
// execs PATH. As dinit's child does, it reports a failure to the supervisor by stage and errno
// on a status pipe that exec closes (close-on-exec), so the supervisor learns that exec
// succeeded from the pipe closing empty. A failure is also told on stderr (the service's log)
// and ends with 126/127 as a shell would.
import { errnoName } from "../base/errno.ts";
import { DEFAULT_PATH, type Credentials, type ProcessAttributes, type RLimitSetting, type SpawnStage } from "../base/process.ts";
import { cstr, cstrArray, errno, libc, ptr, syscall3 } from "./libc.ts";
import { readFileSync, writeFileSync } from "./file-calls.ts";
import { SysError } from "./sys.ts";

export const EXEC_HELPER_FLAG = "--exec-helper";

const RLIMIT: Record<RLimitSetting["resource"], number> = { data: 2, core: 4, nofile: 7, addrspace: 9 };
const RLIM_INFINITY = 0xffffffffffffffffn;
const SIG_SETMASK = 2;

interface HelperSettings {
  credentials?: Credentials;
  rlimits?: RLimitSetting[];
  attributes?: ProcessAttributes;
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

  const attributes = settings.attributes ?? {};
  // As root, before anything else: the cgroup, then what a user could not set for itself.
  if (attributes.cgroup !== undefined) {
    const dir = cgroupDirectory(attributes.cgroup);
    const error = writeProc(`${dir}/cgroup.procs`, "0");
    if (error !== undefined) fail("run-in-cgroup", `joining ${dir}`, error);
  }
  if (attributes.oomScoreAdj !== undefined) {
    const error = writeProc("/proc/self/oom_score_adj", String(attributes.oomScoreAdj));
    if (error !== undefined) fail("oom-score-adj", `writing ${attributes.oomScoreAdj} to /proc/self/oom_score_adj`, error);
  }
  if (attributes.nice !== undefined) {
    if (libc.setpriority(PRIO_PROCESS, 0, attributes.nice) === -1) fail("nice", `setpriority(${attributes.nice})`);
    // dinit also sets the autogroup's nice (this new session's); a kernel without autogroups has no file.
    writeProc("/proc/self/autogroup", String(attributes.nice));
  }
  if (attributes.ioprio !== undefined && syscall3(BigInt(IOPRIO_SET), BigInt(IOPRIO_WHO_PROCESS), 0n, BigInt(attributes.ioprio)) === -1n) {
    fail("ioprio", `ioprio_set(${attributes.ioprio >> 13}, ${attributes.ioprio & 7})`);
  }

  // Limits on memory (address space, data) would bite this Bun process itself, which may map
  // more before it execs: as root it only raises what must be raised now, and lowers them to
  // the asked values just before execve (lowering needs no privilege).
  const lateLimits: { resource: number; values: BigUint64Array; name: string }[] = [];
  for (const limit of settings.rlimits ?? []) {
    const values = new BigUint64Array(2);
    if (libc.getrlimit(RLIMIT[limit.resource], values) === -1) fail("rlimits", `getrlimit(${limit.resource})`);
    const toC = (value: number | undefined, current: bigint) =>
      value === undefined ? current : value === -1 || value === Infinity ? RLIM_INFINITY : BigInt(value);
    const wanted = new BigUint64Array([toC(limit.soft, values[0]!), toC(limit.hard, values[1]!)]);
    if (limit.resource === "addrspace" || limit.resource === "data") {
      lateLimits.push({ resource: RLIMIT[limit.resource], values: wanted, name: limit.resource });
      const raised = new BigUint64Array([wanted[0]! > values[0]! ? wanted[0]! : values[0]!, wanted[1]! > values[1]! ? wanted[1]! : values[1]!]);
      if (raised[0] !== values[0] || raised[1] !== values[1]) {
        if (libc.setrlimit(RLIMIT[limit.resource], raised) === -1) fail("rlimits", `setrlimit(${limit.resource})`);
      }
      continue;
    }
    if (libc.setrlimit(RLIMIT[limit.resource], wanted) === -1) fail("rlimits", `setrlimit(${limit.resource})`);
  }
  const caps = attributes.capabilities;
  for (const cap of caps?.dropBounding ?? []) if (libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) === -1) fail("capabilities", `prctl(PR_CAPBSET_DROP, ${cap})`);
  const ids = settings.credentials;
  // The capabilities set below, after the switch to another user, need the permitted set that
  // switch clears without keep-caps: capset may only put into the inheritable set what is
  // permitted, and an ambient one must be both. Exec clears keep-caps, and a non-root process's
  // permitted set after exec is its ambient one: the user keeps no more than was asked.
  const keepCaps = (caps?.ambient.length ?? 0) + (caps?.inheritable.length ?? 0) > 0 && ids !== undefined && ids.uid !== 0;
  if (attributes.securebits !== undefined || keepCaps) {
    const bits = (attributes.securebits ?? 0) | (keepCaps ? SECBIT_KEEP_CAPS : 0);
    if (libc.prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) === -1) fail("securebits", `prctl(PR_SET_SECUREBITS, ${bits})`);
  }
  if (ids !== undefined) {
    const groups = new Uint32Array(Math.max(1, ids.groups.length));
    groups.set(ids.groups);
    if (libc.setgroups(ids.groups.length, groups) === -1) fail("run-as", `setgroups(${ids.groups.join(",")})`);
    if (libc.setgid(ids.gid) === -1) fail("run-as", `setgid(${ids.gid})`);
    if (libc.setuid(ids.uid) === -1) fail("run-as", `setuid(${ids.uid})`);
  }
  if (caps !== undefined && (caps.inheritable.length > 0 || caps.ambient.length > 0)) {
    const header = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]);
    const data = new Uint32Array(6);
    if (libc.capget(ptr(header), ptr(data)) === -1) fail("capabilities", "capget");
    for (const cap of caps.inheritable) {
      const word = 2 + 3 * (cap >> 5);
      data[word] = (data[word] ?? 0) | (1 << (cap & 31));
    }
    if (libc.capset(ptr(header), ptr(data)) === -1) fail("capabilities", `capset(inheritable ${caps.inheritable.join(",")})`);
    for (const cap of caps.ambient) if (libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) === -1) fail("capabilities", `prctl(PR_CAP_AMBIENT_RAISE, ${cap})`);
  }
  if (attributes.noNewPrivs === true && libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) === -1) fail("no-new-privs", "prctl(PR_SET_NO_NEW_PRIVS)");
  if (settings.cwd !== undefined && libc.chdir(cstr(settings.cwd)) === -1) fail("working-dir", `chdir(${settings.cwd})`);
  const argvC = cstrArray(argv);
  const env = { ...process.env };
  if (settings.listenPid) env.LISTEN_PID = String(process.pid);
  const envC = cstrArray(Object.entries(env).map(([key, value]) => `${key}=${value ?? ""}`));
  // A bare name is looked up in PATH here, with the ids already dropped, as execvp does: go on
  // past a candidate that cannot be run, and report EACCES only if nothing else is found.
  const candidates = path.includes("/") ? [cstr(path)] : (env.PATH ?? DEFAULT_PATH).split(":").map((dir) => cstr(`${dir || "."}/${path}`));
  for (const late of lateLimits) if (libc.setrlimit(late.resource, late.values) === -1) fail("rlimits", `setrlimit(${late.name})`);
  if (path.includes("/")) {
    libc.execve(candidates[0]!, argvC.array, envC.array);
    return fail("exec", path);
  }
  let denied = false;
  for (const candidate of candidates) {
    libc.execve(candidate, argvC.array, envC.array);
    const code = errno();
    if (code === EACCES) denied = true;
    else if (code !== ENOENT && code !== ENOTDIR) return fail("exec", path, code);
  }
  return fail("exec", path, denied ? EACCES : ENOENT);
}

const ENOENT = 2;
const EACCES = 13;
const ENOTDIR = 20;

const PRIO_PROCESS = 0;
const IOPRIO_WHO_PROCESS = 1;
/** ioprio_set's number: x86-64 and aarch64 differ. */
const IOPRIO_SET = process.arch === "arm64" ? 30 : 251;
const PR_CAPBSET_DROP = 24;
const PR_SET_SECUREBITS = 28;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const SECBIT_KEEP_CAPS = 1 << 4;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/**
 * dinit's run-in-cgroup: a leading slash is under the cgroup2 mount (/sys/fs/cgroup), anything else is relative to
 * the cgroup this process started in, which is tsinit's (a run-in-cgroup service is not moved
 * into a cgroup of its own).
 */
function cgroupDirectory(path: string): string {
  // The cgroup2 hierarchy: /sys/fs/cgroup, or where a hybrid host mounts it (.../unified).
  const mounts = readFileSync("/proc/self/mounts", "utf8").split("\n").map((line) => line.split(" "));
  const root = mounts.find((fields) => fields[2] === "cgroup2")?.[1] ?? "/sys/fs/cgroup";
  if (path.startsWith("/")) return normalize(`${root}/${path}`, root);
  const own = /^0::(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1] ?? "/";
  return normalize(`${root}/${own}/${path}`, root);
}

/** `..` resolved textually, never above `root`. */
function normalize(path: string, root: string): string {
  const parts: string[] = [];
  for (const part of path.slice(root.length).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return [root, ...parts].join("/");
}

/** A write to a /proc or /sys file; its errno on failure. */
function writeProc(path: string, value: string): number | undefined {
  try {
    writeFileSync(path, value);
    return undefined;
  } catch (error) {
    return error instanceof SysError ? error.errno : 5;
  }
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  libc.write(fd, bytes, bytes.length);
}
