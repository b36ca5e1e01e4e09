// The image's kernel modules at boot: the tables of /lib/modules/VERSION read once, then loaded
// through finit_module for what the devices present need (coldplug), what `modules-load=` and
// /etc/modules name, each device a uevent announces later, and a root filesystem the kernel
// lacks. The policy is in modules.ts; this is the wiring to Sys.
import type { Log } from "../log/log.ts";
import { SysError, type Sys } from "../sys/sys.ts";
import type { BootRecord } from "./boot-record.ts";
import { describeModuleStep, loadModules, normalizeModuleName, parseModuleTables, parseProcModules, type ModuleRequest, type ModuleTables } from "./modules.ts";

/** The tables' files, each at most this big (the cloud kernel's modules.alias is ~1.4 MB). */
const MAX_TABLE_BYTES = 16 << 20;

export class BootModules {
  private readonly tried = new Set<string>();
  /** Read and parsed on first use: a boot that loads nothing pays nothing (see open()). */
  private parsed: ModuleTables | undefined | null = null;

  private constructor(
    private readonly sys: Sys,
    private readonly log: Log,
    private readonly record: BootRecord,
  ) {}

  /**
   * The running kernel's modules in this root. Nothing is read yet: parsing the tables and
   * scanning sysfs cost PID 1 about 4.5 MB of Rss for good (measured: JavaScriptCore keeps what
   * its JIT made of those loops), so only a boot that loads modules pays for it.
   */
  static open(sys: Sys, log: Log, record: BootRecord): BootModules {
    return new BootModules(sys, log, record);
  }

  private get tables(): ModuleTables | undefined {
    if (this.parsed !== null) return this.parsed;
    const release = this.sys.readFile("/proc/sys/kernel/osrelease")?.trim();
    const modulesDir = `/lib/modules/${release}`;
    const read = (name: string) => {
      const text = this.sys.readRegularFile(`${modulesDir}/${name}`, MAX_TABLE_BYTES);
      return text instanceof SysError ? undefined : text;
    };
    const modulesDep = release ? read("modules.dep") : undefined;
    this.parsed =
      modulesDep === undefined
        ? undefined
        : parseModuleTables({
            modulesDir,
            modulesDep,
            modulesAlias: read("modules.alias"),
            modulesBuiltin: read("modules.builtin"),
            modulesBuiltinModinfo: read("modules.builtin.modinfo"),
          });
    return this.parsed;
  }

  /**
   * The modules asked for by name, after (with `coldplug`) what the devices present need among
   * the modules this root carries: the initramfs stage that looks for a root does that; other
   * stages load only what is named.
   */
  loadAtBoot(wanted: readonly ModuleRequest[], coldplug: boolean): void {
    if (wanted.length === 0 && !coldplug) return;
    if (this.tables === undefined) {
      // Past switch_root the same command line names what the initramfs loaded already.
      const present = new Set(parseProcModules(this.sys.readFile("/proc/modules") ?? ""));
      const missing = wanted.filter((w) => !present.has(normalizeModuleName(w.name)) && this.sys.readDir(`/sys/module/${normalizeModuleName(w.name)}`) === undefined);
      if (missing.length > 0) this.log.error(`cannot load ${missing.map((w) => `${w.name} (${w.source})`).join(", ")}: this image carries no modules.dep`);
      return;
    }
    if (coldplug) this.load(wanted, () => this.devicesModaliases());
    else this.load(wanted, () => [], false);
  }

  /** Every device present again: those that appeared since the boot's coldplug. */
  coldplug(): void {
    if (this.tables !== undefined) this.load([], () => this.devicesModaliases());
  }

  /** A device that appeared later (a uevent's MODALIAS). */
  loadForDevice(modalias: string): void {
    if (this.tables !== undefined) this.load([], () => [modalias]);
  }

  /** A root filesystem type the kernel does not know yet: its module (alias fs-TYPE), if carried. */
  loadFilesystem(type: string): void {
    if (this.tables === undefined || this.kernelHas(type)) return;
    this.load([{ name: `fs-${type}`, params: "", source: `the root filesystem (${type})` }], () => []);
  }

  private kernelHas(type: string): boolean {
    return (this.sys.readFile("/proc/filesystems") ?? "").split("\n").some((line) => line.trim().split(/\s+/).pop() === type);
  }

  private load(wanted: readonly ModuleRequest[], modaliases: () => readonly string[], rescan = true): void {
    const tables = this.tables!;
    const loaded = [...parseProcModules(this.sys.readFile("/proc/modules") ?? ""), ...this.tried];
    let first = true;
    loadModules(
      tables,
      { loaded, wanted },
      {
        // The first round asks for the devices given; later rounds for all devices present,
        // which includes those the loaded drivers brought.
        modaliases: () => {
          const aliases = first || !rescan ? modaliases() : this.devicesModaliases();
          first = false;
          return aliases;
        },
        load: (step) => {
          this.tried.add(step.name);
          return this.record.step(describeModuleStep(step), () => this.sys.loadModule(step.path, step.params), (error) => error === undefined || error.code === "EEXIST");
        },
      },
      (message) => this.log.error(message),
    );
  }

  /** The modalias of every device sysfs lists now. */
  private devicesModaliases(): string[] {
    const aliases = new Set<string>();
    for (const bus of this.sys.readDir("/sys/bus") ?? []) {
      for (const device of this.sys.readDir(`/sys/bus/${bus}/devices`) ?? []) {
        const alias = this.sys.readFile(`/sys/bus/${bus}/devices/${device}/modalias`)?.trim();
        if (alias) aliases.add(alias);
      }
    }
    return [...aliases].sort();
  }
}
