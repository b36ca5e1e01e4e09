// The control API's verbs from dinitctl beyond start and stop: enable and disable (the
// waits-for.d link and the runtime dependency with it), unload, reload of one service,
// add-dep and rm-dep, signal, dependents, the activation environment (setenv, unsetenv,
// getallenv) and catlog --clear. Each checks the caller and the body, then asks the
// supervisor (whose core decides) or the service files port, and answers with JSON.
import type { ServiceSpec } from "../base/service-spec.ts";
import { signalName } from "../base/signals.ts";
import type { ServiceRecord } from "../core/service-set.ts";
import { STOP_GRACE_MS } from "../supervisor/supervisor.ts";
import type { DependencyResponse, DependentsResponse, EnableResponse, EnvResponse, LogResponse, ServiceReloadResponse, SignalResponse, StatusResponse } from "./api.ts";
import { errorReply, unknownService as unknown, type ControlApi, type ControlReply, type ControlRequest } from "./handlers.ts";
import { checkDependencyRequest, checkEmptyBody, checkEnableRequest, checkEnvRequest, checkSignalRequest, checkServiceName, environmentBytes, MAX_ENVIRONMENT_BYTES } from "./requests.ts";

export type LoadAnswer = { ok: true; spec: ServiceSpec; warnings: string[] } | { ok: false; message: string };
/** `noFile` (disable): the service has no description file, and why it was not found. */
export type LinkAnswer = { ok: true; from: string; path: string; changed: boolean; noFile?: string } | { ok: false; message: string };

/** The services directories, for the verbs that read or change them (absent: those verbs answer 501). */
export interface ServiceFiles {
  /** One service's description read again from the files (its dependencies are not loaded). */
  load(name: string): LoadAnswer;
  /** Makes (enable) or removes (disable) the link in the dependent's waits-for.d. */
  link(verb: "enable" | "disable", to: string, from: string | undefined): LinkAnswer;
}

const reply = (status: number, body: unknown): ControlReply => ({ status, body });

/** A refusal from the core or the files, after `what`: "no service named" is a 404, the rest a conflict. */
function refusedBy(what: string, message: string): ControlReply {
  return errorReply(message.startsWith("no service named") ? "unknown-service" : "conflict", `${what}: ${message}`);
}

/** The loaded service NAME when the caller may VERB it (its owner or root); else the 404 or 403 to answer. */
function permittedService(api: ControlApi, name: string, verb: string, request: ControlRequest): { record: Readonly<ServiceRecord> } | { reply: ControlReply } {
  const record = api.options.supervisor.service(name);
  if (record === undefined) return { reply: unknown(name) };
  const refused = api.refuse({ kind: "service", verb, service: name, ownerUid: api.ownerUid(name) }, request);
  return refused === undefined ? { record } : { reply: refused };
}

/** catlog --clear: the buffer log as it is, then emptied. */
export function clearLog(api: ControlApi, name: string, request: ControlRequest): ControlReply {
  const { supervisor } = api.options;
  const found = permittedService(api, name, "clear the log of", request);
  if ("reply" in found) return found.reply;
  const { record } = found;
  if (record.spec.logType !== "buffer") return errorReply("conflict", `${name} has no buffer log (log-type = ${record.spec.logType})`);
  const log = supervisor.bufferLog(name);
  const kept = log.since(0);
  log.clear();
  return reply(200, { service: name, ...kept } satisfies LogResponse);
}

export function unload(api: ControlApi, name: string, request: ControlRequest): ControlReply {
  const { supervisor } = api.options;
  const record = supervisor.service(name);
  if (record === undefined) return unknown(name);
  const refused = api.refuse({ kind: "admin", verb: `unload ${name}` }, request);
  if (refused !== undefined) return refused;
  const body = api.body(request, checkEmptyBody);
  if (!body.ok) return body.reply;
  if (record.spec.file === "" && record.spec.type === "process") {
    return errorReply("conflict", `${name} was added with initctl run; remove it with initctl remove`);
  }
  const last = api.status(record);
  const why = supervisor.unload(name);
  if (why !== undefined) return errorReply("conflict", `not unloading ${name}: ${why}`, last);
  supervisor.notifyStatus.delete(name);
  return reply(200, { service: last } satisfies StatusResponse);
}

/** dinit's `reload NAME`: the description read again and applied, at once or within limits. */
export function reloadService(api: ControlApi, name: string, request: ControlRequest): ControlReply {
  const { supervisor, files } = api.options;
  const refused = api.refuse({ kind: "admin", verb: `reload ${name}` }, request);
  if (refused !== undefined) return refused;
  const body = api.body(request, checkEmptyBody);
  if (!body.ok) return body.reply;
  const checked = checkServiceName(name);
  if (!checked.ok) return errorReply("bad-request", checked.message);
  if (files === undefined) return errorReply("not-implemented", "this server has no services directories to reload from");
  const loaded = files.load(name);
  if (!loaded.ok) return refusedBy(`not reloading ${name}`, loaded.message);
  loadDependencies(api, loaded.spec);
  const spec = withoutUnloadedWaitsFor(api, loaded.spec, loaded.warnings);
  const why = supervisor.reloadService(spec);
  const record = supervisor.service(name);
  if (why !== undefined) return errorReply("conflict", `not reloading ${name}: ${why}`, record === undefined ? undefined : api.status(record));
  return reply(200, { service: api.status(record!), warnings: loaded.warnings } satisfies ServiceReloadResponse);
}

/** Dependencies the new description names that are not loaded yet are loaded now (on demand, as dinit). */
function loadDependencies(api: ControlApi, spec: ServiceSpec): void {
  const { load, supervisor } = api.options;
  if (load === undefined) return;
  for (const dep of new Set([...spec.dependsOn, ...spec.dependsMs, ...spec.waitsFor])) {
    if (supervisor.service(dep) === undefined && checkServiceName(dep).ok) load(dep);
  }
}

/**
 * A waits-for dependency that is not loaded is dropped with a warning, as loading every
 * directory drops a `.d` entry that does not load; a hard one is refused by the core.
 */
function withoutUnloadedWaitsFor(api: ControlApi, spec: ServiceSpec, warnings: string[]): ServiceSpec {
  const missing = spec.waitsFor.filter((name) => api.options.supervisor.service(name) === undefined);
  if (missing.length === 0) return spec;
  for (const name of missing) warnings.push(`${spec.file}: waits-for ${name}: no such service is loaded; ignored`);
  return { ...spec, waitsFor: spec.waitsFor.filter((name) => !missing.includes(name)) };
}

export function signal(api: ControlApi, name: string, request: ControlRequest): ControlReply {
  const { supervisor } = api.options;
  const found = permittedService(api, name, "signal", request);
  if ("reply" in found) return found.reply;
  const { record } = found;
  const body = api.body(request, checkSignalRequest);
  if (!body.ok) return body.reply;
  const pid = record.pid;
  const why = supervisor.signalService(name, body.value);
  if (why !== undefined || pid === undefined) return errorReply("conflict", `not sending ${signalName(body.value)}: ${why ?? `${name} has no process`}`, api.status(record));
  api.options.log.info(`control: ${signalName(body.value)} to ${name} (pid ${pid})`);
  return reply(200, { service: name, signal: body.value, pid } satisfies SignalResponse);
}

export function dependents(api: ControlApi, name: string): ControlReply {
  const { supervisor } = api.options;
  if (supervisor.service(name) === undefined) return unknown(name);
  const list = supervisor.dependentsOf(name).map((entry) => ({ ...entry, state: supervisor.service(entry.name)!.state }));
  return reply(200, { service: name, dependents: list } satisfies DependentsResponse);
}

export function dependency(api: ControlApi, verb: "add" | "remove", request: ControlRequest): ControlReply {
  const { supervisor } = api.options;
  const refused = api.refuse({ kind: "admin", verb: verb === "add" ? "add dependencies" : "remove dependencies" }, request);
  if (refused !== undefined) return refused;
  const body = api.body(request, checkDependencyRequest);
  if (!body.ok) return body.reply;
  const { kind, from, to } = body.value;
  // Both are loaded on demand, as dinitctl add-dep loads them.
  for (const name of [from, to]) {
    const loaded = supervisor.service(name) === undefined && verb === "add" && checkServiceName(name).ok ? api.options.load?.(name) : undefined;
    if (loaded?.kind === "failed") return errorReply("failed", loaded.message);
    if (supervisor.service(name) === undefined) return unknown(name);
  }
  const why = verb === "add" ? supervisor.addDependency(from, kind, to) : supervisor.removeDependency(from, kind, to);
  if (why !== undefined) return errorReply("conflict", `not ${verb === "add" ? "adding" : "removing"} the dependency: ${why}`);
  return reply(200, { kind, from: api.status(supervisor.service(from)!), to: api.status(supervisor.service(to)!) } satisfies DependencyResponse);
}

/**
 * enable: the link first (a service that does not load gets none), then the dependency at
 * run time (refused: the link made goes again), and a wait for the service's start when the dependent is active. disable: the
 * link away and the dependency dropped, and a wait for the stop when nothing else wants it.
 */
export async function link(api: ControlApi, name: string, verb: "enable" | "disable", request: ControlRequest): Promise<ControlReply> {
  const { supervisor, files } = api.options;
  const refused = api.refuse({ kind: "admin", verb: `${verb} ${name}` }, request);
  if (refused !== undefined) return refused;
  const body = api.body(request, checkEnableRequest);
  if (!body.ok) return body.reply;
  const checked = checkServiceName(name);
  if (!checked.ok) return errorReply("bad-request", checked.message);
  if (files === undefined) return errorReply("not-implemented", `this server has no services directories to ${verb} in`);
  if (verb === "enable" && supervisor.shuttingDown) return errorReply("conflict", `not enabling ${name}: shutting down`);

  // A service that is not loaded is loaded with what it reaches (on demand, as dinit).
  // (With no file, the files port below says where it looked.)
  const onDemand = verb === "enable" && supervisor.service(name) === undefined ? api.options.load?.(name) : undefined;
  if (onDemand?.kind === "failed") return refusedBy(`not enabling ${name}`, onDemand.message);
  if (verb === "enable" && supervisor.service(name) === undefined) {
    const loaded = files.load(name);
    if (!loaded.ok) return refusedBy(`not enabling ${name}`, loaded.message);
    const why = supervisor.reloadService(withoutUnloadedWaitsFor(api, loaded.spec, loaded.warnings));
    if (why !== undefined) return errorReply("conflict", `not enabling ${name}: ${why}`);
  }
  // Loaded before the disable: a service whose removal was pending goes with its stop.
  const before = supervisor.service(name);
  const linked = files.link(verb, name, body.value.from);
  if (!linked.ok) return refusedBy(`not ${verb === "enable" ? "enabling" : "disabling"} ${name}`, linked.message);
  if (verb === "disable" && before === undefined && linked.noFile !== undefined && !linked.changed) {
    // Not loaded, no file and no link: there is no such service (dinitctl cannot load it and
    // fails). A link left by a file removed since is still taken away, above, and succeeds.
    return errorReply("unknown-service", `not disabling ${name}: ${linked.noFile}, and it has no link (${linked.path})`);
  }
  const from = linked.from;
  const dependent = supervisor.service(from);
  if (dependent !== undefined) {
    const has = dependent.spec.waitsFor.includes(name);
    if (verb === "enable" && !has) {
      const why = supervisor.addDependency(from, "waits-for", name, { acquire: true });
      if (why !== undefined) {
        // A link left behind would be read at the next boot or reload, where the refused edge
        // (a cycle, say) blocks both services: it goes unless it was there before.
        const undone = linked.changed ? files.link("disable", name, from) : undefined;
        const left = undone === undefined ? `${linked.path} was there already` : undone.ok ? `${linked.path} removed again` : `${linked.path} could not be removed again: ${undone.message}`;
        return errorReply("conflict", `not enabling ${name}: ${name} was not added to ${from}: ${why} (${left})`);
      }
    }
    if (verb === "disable" && has) supervisor.removeDependency(from, "waits-for", name);
  }
  api.options.log.info(`control: ${verb}d ${name} (${linked.changed ? (verb === "enable" ? "made" : "removed") : "already so"}: ${linked.path})`);
  const answer = (): ControlReply => {
    const record = supervisor.service(name);
    const link = { from, link: linked.path, changed: linked.changed };
    // Forgotten with the stop (its file was removed and a reload came): its last status, as stop answers.
    if (record === undefined && before !== undefined) return reply(200, { service: api.status(before), ...link, removed: true } satisfies EnableResponse);
    if (record === undefined) return reply(200, link satisfies EnableResponse);
    return reply(200, { service: api.status(record), ...link } satisfies EnableResponse);
  };
  const record = supervisor.service(name);
  if (record === undefined) return answer();
  if (verb === "enable" && dependent !== undefined && supervisor.wanted(dependent)) {
    // It started for the dependent (or was already going): wait for it as start does.
    const outcome = await supervisor.command("wake", name, request.signal);
    if (outcome?.kind === "failed") return errorReply("failed", `${name} was enabled but did not start: ${outcome.reason}`, api.status(supervisor.service(name) ?? record));
  }
  if (verb === "disable" && !supervisor.wanted(record)) {
    // Bounded: the stop-timeout sends SIGKILL, so past it and a grace the stop is stuck
    // (stop-timeout = 0, a process in D state); the link is gone either way.
    const waitMs = record.spec.stopTimeoutMs + STOP_GRACE_MS;
    const stopped = await supervisor.stoppedWithin(name, waitMs, request.signal);
    if (!stopped && request.signal?.aborted !== true) {
      const now = supervisor.service(name) ?? record;
      return errorReply("failed", `${name} was disabled (${linked.path} removed) but did not stop within ${waitMs / 1000}s; it is still ${now.state}`, api.status(now));
    }
  }
  return answer();
}

export function environment(api: ControlApi, request: ControlRequest, change: boolean): ControlReply {
  const { supervisor } = api.options;
  const refused = api.refuse({ kind: "admin", verb: change ? "change the activation environment" : "read the activation environment" }, request);
  if (refused !== undefined) return refused;
  if (change) {
    const body = api.body(request, checkEnvRequest);
    if (!body.ok) return body.reply;
    const after: Record<string, string> = Object.assign(Object.create(null), supervisor.activationEnvironment(), body.value.set);
    for (const name of body.value.unset) delete after[name];
    const bytes = environmentBytes(after);
    if (bytes > MAX_ENVIRONMENT_BYTES) {
      return errorReply("bad-request", `the activation environment would take ${bytes} bytes, more than ${MAX_ENVIRONMENT_BYTES} (1 MiB): nothing changed (exec would fail with E2BIG)`);
    }
    supervisor.changeEnvironment(body.value.set, body.value.unset);
  }
  return reply(200, { env: supervisor.activationEnvironment() } satisfies EnvResponse);
}
