// The one executable's entry: PID 1 of a booted machine, the supervisor (`--services-dir`), or
// the control client (invoked as `initctl`, or `tsinit ctl ...`).
import { basename } from "./base/paths.ts";
import { runInitctl } from "./cli/initctl.ts";
import { runContainer } from "./container.ts";
import { runCheck } from "./check.ts";
import { runInit } from "./init.ts";
import { parseSupervisorArgs, UsageError } from "./supervisor-args.ts";
import { runSupervisor } from "./supervisor-mode.ts";
import { startFailure } from "./start-failure.ts";
import { EXEC_HELPER_FLAG, runExecHelper } from "./sys/exec-helper.ts";
import { ignoreSignal } from "./sys/ignore-signal.ts";
import { linuxSys } from "./sys/linux-sys.ts";
import { linuxRuntime } from "./sys/runtime.ts";

/** The init PID namespace's inode (PROC_PID_INIT_INO): PID 1 there is the machine's init. */
const INITIAL_PID_NAMESPACE = "pid:[4026531836]";

const USAGE = `usage: tsinit                 (as the PID 1 of a machine)
       tsinit [--services-dir DIR]... [--socket PATH] [--target NAME|none] [--cgroup DIR]
              [--debug | --quiet] [--ready-fd N] [--exit-when-idle]
                                (supervisor mode; a user's default directory is
                                $XDG_CONFIG_HOME/tsinit.d, else ~/.config/tsinit.d)
       tsinit check [-d DIR]... [NAME...]  (check service files offline, as dinitcheck does)
       tsinit ctl COMMAND...    (or a link named initctl; \`tsinit ctl help\` lists the commands)
       tsinit -- COMMAND [ARGS...]  (container mode: run COMMAND, forward signals, reap, exit with its status)`;

function main(args: string[]): void {
  if (args[0] === EXEC_HELPER_FLAG) runExecHelper(args.slice(1));
  // A compiled executable's process.argv0 is the name it was invoked by (measured: argv[0] of
  // exec, e.g. "initctl" through a link); process.argv[1] is its embedded entry instead.
  const client = basename(process.argv0) === "initctl" || args[0] === "ctl";
  // `tsinit check`, `tsinit ctl check` and `initctl check`: offline, no supervisor needed.
  const checkArgs = args[0] === "check" ? args.slice(1) : client && args[0] === "ctl" && args[1] === "check" ? args.slice(2) : undefined;
  if (checkArgs !== undefined && linuxSys.getpid() !== 1) {
    process.exitCode = runCheck(linuxSys, checkArgs, (text) => process.stdout.write(text), process.env);
    return;
  }
  if (client && linuxSys.getpid() !== 1) {
    void runInitctl(args[0] === "ctl" ? args.slice(1) : args).then((code) => (process.exitCode = code));
    return;
  }
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.includes("--services-dir")) {
    runSupervisor(linuxRuntime({ kmsg: false, consoleFd: 2 }), parseSupervisorArgs(args, { uid: linuxSys.getuid(), env: process.env }));
    return;
  }
  const dashes = args.indexOf("--");
  if (dashes !== -1) {
    runContainer(linuxRuntime({ kmsg: false, consoleFd: 2 }), args.slice(dashes + 1), ignoreSignal);
    return;
  }
  if (linuxSys.getpid() === 1 && linuxSys.readlink("/proc/self/ns/pid") === INITIAL_PID_NAMESPACE) {
    // BOOT=0 here powers the machine off when the first runner exits (src/runner.ts).
    runInit(linuxRuntime({ kmsg: true }), args);
    return;
  }
  // A user's supervisor, as dinit's user instance: the services in $XDG_CONFIG_HOME/tsinit.d.
  if (linuxSys.getuid() !== 0) {
    runSupervisor(linuxRuntime({ kmsg: false, consoleFd: 2 }), parseSupervisorArgs(args, { uid: linuxSys.getuid(), env: process.env }));
    return;
  }
  throw new UsageError("not the PID 1 of a machine; give --services-dir to run as a supervisor, or -- COMMAND to run one command");
}

try {
  main(process.argv.slice(2));
} catch (error) {
  const failure = startFailure(error, linuxSys.getpid() === 1 && linuxSys.readlink("/proc/self/ns/pid") === INITIAL_PID_NAMESPACE, USAGE);
  process.stderr.write(failure.lines);
  if (failure.kind === "exit") process.exit(failure.exitCode);
  setInterval(() => linuxSys.reap(), 1_000);
}
