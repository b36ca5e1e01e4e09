// Carries out the core's spawn actions: prepares the request (launch.ts), opens what the
// process needs from tsinit (the activation socket, NOTIFY_SOCKET, a readiness pipe, an output
// pipe), spawns it through the process table, moves it into its cgroup, and turns what follows
// into events: `spawned`, `spawn-failed` by stage, readiness, and, for the exec helper, the
// report that exec happened or failed.
import { describeExit, SPAWN_STAGES, type ExitStatus, type SpawnStage } from "../base/process.ts";
import type { ServiceSpec } from "../base/service-spec.ts";
import type { Action, Event, ProcessRole } from "../core/events.ts";
import type { ServiceRecord } from "../core/service-set.ts";
import type { Log } from "../log/log.ts";
import type { Sys } from "../sys/sys.ts";
import type { ActivationSockets } from "./activation.ts";
import type { ServiceCgroups } from "./cgroups.ts";
import { prepareSpawn, socketOwner } from "./launch.ts";
import type { Leftovers } from "./leftovers.ts";
import type { LogPipes } from "./log-pipes.ts";
import type { NotifySocket } from "./notify.ts";
import type { OutputBuffers } from "./output-buffers.ts";
import type { ProcessTable } from "./process-table.ts";

/**
 * How much of a buffer service's output tsinit reads in a second. A faster writer waits on
 * its full pipe, so a chatty service cannot cost PID 1 a core; the ring keeps the newest bytes.
 */
export const OUTPUT_BYTES_PER_SECOND = 1024 * 1024;

export interface ProcessOwner {
  service: string;
  role: ProcessRole;
  /**
   * The loaded service it was started for (its record, compared by identity). A process can
   * outlive the service: one killed at a failed start is reaped later, and a reload may forget
   * the service meanwhile and load a new one under the same name. What such a process does
   * afterwards (its exec report, its exit) is no event for the core.
   */
  instance: ServiceRecord | undefined;
}

export interface SpawnerParts {
  sys: Sys;
  log: Log;
  env: Readonly<Record<string, string>>;
  processes: ProcessTable<ProcessOwner>;
  activation: ActivationSockets;
  notify: NotifySocket;
  cgroups: ServiceCgroups;
  leftovers: Leftovers;
  outputs: OutputBuffers;
  /** Feeds an event to the core (queued when the core is busy). */
  post: (event: Event) => void;
  /** The live main pid of `service`, to drop readiness from an older instance. */
  mainPid: (service: string) => number | undefined;
  /** The loaded service of that name now, for a new process's owner. */
  instance: (service: string) => ServiceRecord | undefined;
  /** Whether `owner`'s service is still the one loaded under its name (ProcessOwner.instance). */
  current: (owner: ProcessOwner) => boolean;
  /** Written to each new process's oom_score_adj: it inherited tsinit's -1000. */
  childOomScoreAdj?: string;
  /** The pipes of `log-type = pipe` services and their consumers. */
  logPipes?: LogPipes;
}

/** What the exec helper writes on its status pipe when it fails: one JSON line. */
export interface ExecFailureReport {
  stage: SpawnStage;
  detail: string;
}

export class Spawner {
  /**
   * Processes started through the exec helper whose exec is not confirmed yet. Their exit, if
   * it comes first, waits here, so the core always hears how exec went before the exit.
   */
  private readonly unconfirmed = new Map<number, { owner: ProcessOwner; exit?: ExitStatus }>();

  /** Each bgprocess's launcher whose pid file is not read yet: its pid and, with run-as, its uid. */
  private readonly launchers = new Map<string, { pid: number; uid?: number }>();

  constructor(private readonly parts: SpawnerParts) {}

  /** The last main process spawned for bgprocess `service` (its launcher, for its pid file), then forgotten. */
  takeLauncher(service: string): { pid: number; uid?: number } | undefined {
    const launcher = this.launchers.get(service);
    this.launchers.delete(service);
    return launcher;
  }

  get launcherCount(): number {
    return this.launchers.size;
  }

  /** Forgets the launchers of services that are gone (one that failed before its pid file was read). */
  forgetLaunchers(loaded: (service: string) => boolean): void {
    for (const service of this.launchers.keys()) if (!loaded(service)) this.launchers.delete(service);
  }

  /** One service no longer loaded: its launcher, if any, goes. */
  forgetLauncher(service: string): void {
    this.launchers.delete(service);
  }

  spawn(action: Extract<Action, { kind: "spawn" }>, spec: ServiceSpec): void {
    const { sys, env, processes, post } = this.parts;
    const { service, role } = action;
    const notifySocket = role === "main" && spec.readyNotification?.kind === "notify" ? this.parts.notify.open(service) : undefined;
    const failed = (stage: SpawnStage, error: string) => {
      // The start's NOTIFY_SOCKET, if one was made, is for no one now.
      if (notifySocket !== undefined) this.parts.notify.release(service);
      post({ kind: "spawn-failed", service, role, stage, error });
    };

    let activationFd: number | undefined;
    if (role === "main" && spec.socketListen !== undefined) {
      const owner = socketOwner(spec, sys);
      if (typeof owner === "string") return failed("socket-listen", owner);
      const socket = this.parts.activation.socketFor({ ...spec, socketListen: spec.socketListen }, owner);
      if (socket instanceof Error) return failed("socket-listen", socket.message);
      activationFd = socket;
    }
    const logPipes = this.parts.logPipes;
    const logPipe = logPipes === undefined ? undefined : (producer: string) => logPipes.pipeOf(producer);
    const prepared = prepareSpawn(spec, action, { sys, env, notifySocket, activationFd, logPipe });
    if (!prepared.ok) return failed(prepared.stage, prepared.error);

    if (role === "main") this.parts.leftovers.killNow(service);
    const owner = { service, role, instance: this.parts.instance(service) };
    const result = processes.spawn(owner, prepared.request);
    for (const fd of prepared.closeAfterSpawn) sys.close(fd);
    if (!result.ok) {
      if (prepared.readinessFd !== undefined) sys.close(prepared.readinessFd);
      if (prepared.outputFd !== undefined) sys.close(prepared.outputFd);
      // An exec's detail is the program and errno; anything else names its call.
      const { error } = result;
      return failed(result.stage, result.stage === "exec" && error.call === "execve" ? `${error.path ?? ""}: ${error.code}` : error.message);
    }
    const { pid, execStatusFd } = result;
    // oom-score-adj: the exec helper set the service's own value; it must not be overwritten.
    if (spec.oomScoreAdj === undefined) this.restoreOomScore(service, pid);
    // A bgprocess's launcher, for its pid file; forgotten once the file is read.
    if (role === "main" && spec.type === "bgprocess") this.launchers.set(service, { pid, uid: prepared.request.credentials?.uid });
    post({ kind: "spawned", service, role, pid, execPending: execStatusFd !== undefined });
    if (execStatusFd !== undefined) this.watchExec(owner, pid, execStatusFd);
    // run-in-cgroup: the exec helper joined the named cgroup, which is not tsinit's to manage.
    if (role === "main" && spec.runInCgroup === undefined) this.parts.cgroups.join(service, pid);
    if (prepared.readinessFd !== undefined) this.watchReadiness(service, pid, prepared.readinessFd);
    if (prepared.outputFd !== undefined) {
      const buffer = this.parts.outputs.get(service, spec.logBufferSize);
      void sys.readUntilClosed(prepared.outputFd, (chunk) => buffer.append(chunk), { bytesPerSecond: OUTPUT_BYTES_PER_SECOND });
    }
  }

  /**
   * A new process inherited tsinit's oom_score_adj of -1000; it gets tsinit's old value back at
   * once, as it joins its cgroup (what it forks in its first microseconds may keep -1000).
   */
  private restoreOomScore(service: string, pid: number): void {
    const value = this.parts.childOomScoreAdj;
    if (value === undefined) return;
    const error = this.parts.sys.writeFile(`/proc/${pid}/oom_score_adj`, value);
    if (error !== undefined && error.code !== "ENOENT" && error.code !== "ESRCH") this.parts.log.warn(`${service}: setting its oom_score_adj: ${error.message}`);
  }

  /** A process's exit, unless it waits for its exec report: then false, and it is posted after. */
  passExit(pid: number, status: ExitStatus): boolean {
    const pending = this.unconfirmed.get(pid);
    if (pending === undefined) return true;
    pending.exit = status;
    return false;
  }

  /**
   * The helper's status pipe closes on exec (close-on-exec) with nothing written, or carries
   * the failing stage and errno, after which the helper exits 126 or 127.
   */
  private watchExec(owner: ProcessOwner, pid: number, fd: number): void {
    const { sys, post, log } = this.parts;
    this.unconfirmed.set(pid, { owner });
    let report = "";
    void sys.readUntilClosed(fd, (chunk) => (report += chunk)).then(() => {
      const pending = this.unconfirmed.get(pid);
      this.unconfirmed.delete(pid);
      if (!this.parts.current(owner)) {
        log.debug(`${owner.service}: pid ${pid}'s exec report came after the service was removed; ignored`);
        if (pending?.exit !== undefined) log.debug(`${owner.service}: pid ${pid} ${describeExit(pending.exit)} after the service was removed`);
        return;
      }
      const failure = parseExecReport(report);
      if (failure === undefined) post({ kind: "exec-done", service: owner.service, role: owner.role, pid });
      else post({ kind: "spawn-failed", service: owner.service, role: owner.role, pid, stage: failure.stage, error: failure.detail });
      if (pending?.exit !== undefined) {
        if (failure === undefined) log.debug(`${owner.service}: pid ${pid} ${describeExit(pending.exit)} right after exec`);
        post({ kind: "exited", service: owner.service, role: owner.role, pid, status: pending.exit });
      }
    });
  }

  /** dinit's readiness pipe: the first byte the service writes means it is ready. */
  private watchReadiness(service: string, pid: number, fd: number): void {
    let told = false;
    void this.parts.sys.readUntilClosed(fd, () => {
      if (told || this.parts.mainPid(service) !== pid) return;
      told = true;
      this.parts.post({ kind: "ready", service });
    });
  }
}

/** The helper's report, or undefined for an empty one (exec succeeded). A garbled one is an exec failure. */
export function parseExecReport(text: string): ExecFailureReport | undefined {
  if (text.trim() === "") return undefined;
  try {
    const parsed = JSON.parse(text.trim().split("\n")[0]!) as Partial<ExecFailureReport>;
    if (SPAWN_STAGES.includes(parsed.stage as SpawnStage) && typeof parsed.detail === "string") return { stage: parsed.stage as SpawnStage, detail: parsed.detail };
  } catch {}
  return { stage: "exec", detail: `the exec helper reported ${JSON.stringify(text.slice(0, 200))}` };
}
