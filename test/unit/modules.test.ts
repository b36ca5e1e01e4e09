import { existsSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  describeModuleStep,
  globMatch,
  loadModules,
  modulePlan,
  parseEtcModules,
  parseModulesLoad,
  parseModuleTables,
  parseProcModules,
  planModules,
  type ModuleFiles,
  type ModuleLoadError,
  type ModuleStep,
} from "../../src/boot/modules.ts";

// Small tables in the kernel's formats, shaped after Debian's 6.1 cloud kernel.
const DIR = "/lib/modules/6.1.0-test";
const MODULES_DEP = `\
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/scsi/sd_mod.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/scsi_common.ko:
kernel/fs/btrfs/btrfs.ko: kernel/lib/zstd/zstd_compress.ko kernel/lib/raid6/raid6_pq.ko kernel/crypto/xor.ko kernel/lib/libcrc32c.ko
kernel/lib/zstd/zstd_compress.ko:
kernel/lib/raid6/raid6_pq.ko:
kernel/crypto/xor.ko:
kernel/lib/libcrc32c.ko:
kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/watchdog/softdog.ko:
`;
const MODULES_ALIAS = `\
alias virtio:d00000002v* virtio_blk
alias virtio:d00000004v* virtio_rng
alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci
alias fs-btrfs btrfs
alias btrfs-control btrfs
alias scsi:t-0x00* sd_mod
alias scsi:t-0x0[7E]* sd_mod
alias crypto-crc32c libcrc32c
`;
const MODULES_BUILTIN = `\
kernel/fs/ext4/ext4.ko
kernel/fs/jbd2/jbd2.ko
kernel/crypto/crc32c_generic.ko
`;
const MODULES_BUILTIN_MODINFO = [
  "ext4.softdep=pre: crypto-crc32c",
  "ext4.license=GPL",
  "ext4.alias=fs-ext4",
  "ext4.alias=ext3",
  "ext4.alias=fs-ext3",
  "crc32c_generic.alias=crypto-crc32c-generic",
  "",
].join("\0");

const FILES: ModuleFiles = {
  modulesDir: DIR,
  modulesDep: MODULES_DEP,
  modulesAlias: MODULES_ALIAS,
  modulesBuiltin: MODULES_BUILTIN,
  modulesBuiltinModinfo: MODULES_BUILTIN_MODINFO,
};
const TABLES = parseModuleTables(FILES);

const VIRTIO_DISK_PCI = "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00";
const VIRTIO_DISK = "virtio:d00000002v00001AF4";

const names = (steps: ModuleStep[]) => steps.map((step) => step.name);
const plan = (request: { loaded?: string[]; modaliases?: string[]; wanted?: ReturnType<typeof parseModulesLoad> }) =>
  planModules(TABLES, { loaded: request.loaded ?? [], modaliases: request.modaliases ?? [], wanted: request.wanted ?? [] });

describe("globMatch, fnmatch without flags", () => {
  it("matches *, ? and plain characters", () => {
    expect(globMatch("virtio:d00000002v*", VIRTIO_DISK)).toBe(true);
    expect(globMatch("virtio:d00000002v*", "virtio:d00000001v00001AF4")).toBe(false);
    expect(globMatch("pci:v00001AF4d*sv*sd*bc*sc*i*", VIRTIO_DISK_PCI)).toBe(true);
    expect(globMatch("pci:v00001AF4d*sv*sd*bc*sc*i*", "pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00")).toBe(false);
    expect(globMatch("a?c", "abc")).toBe(true);
    expect(globMatch("a?c", "ac")).toBe(false);
    expect(globMatch("*", "")).toBe(true);
    expect(globMatch("", "")).toBe(true);
    expect(globMatch("a*", "b/a")).toBe(false);
    expect(globMatch("*/a", "b/a")).toBe(true);
  });

  it("matches bracket classes: members, ranges, negation, a leading ]", () => {
    expect(globMatch("usb:v1234p*d0[0-2]*", "usb:v1234p0001d01ff")).toBe(true);
    expect(globMatch("usb:v1234p*d0[0-2]*", "usb:v1234p0001d03ff")).toBe(false);
    expect(globMatch("x[!0-9]", "xa")).toBe(true);
    expect(globMatch("x[!0-9]", "x5")).toBe(false);
    expect(globMatch("x[^ab]", "xb")).toBe(false);
    expect(globMatch("x[]]", "x]")).toBe(true);
    expect(globMatch("x[7E]", "xE")).toBe(true);
  });

  it("reads an unclosed [ and an escaped character literally", () => {
    expect(globMatch("x[ab", "x[ab")).toBe(true);
    expect(globMatch("x[ab", "xa")).toBe(false);
    expect(globMatch("a\\*b", "a*b")).toBe(true);
    expect(globMatch("a\\*b", "axb")).toBe(false);
  });

  it("fails a hopeless match of many stars in at most pattern × text steps", () => {
    const pattern = "*a*a*a*a*a*a*a*a*b";
    const text = countedReads("a".repeat(5000), pattern.length * 5000);
    expect(globMatch(pattern, text.value)).toBe(false);
    // It did read the text through the counting proxy (a bound on zero reads proves nothing).
    expect(text.reads()).toBeGreaterThan(0);
    expect(text.reads()).toBeLessThanOrEqual(pattern.length * 5000);
  });
});

describe("the tables", () => {
  it("reads module names from paths, with - as _ and compressed files too", () => {
    const tables = parseModuleTables({ modulesDir: `${DIR}/`, modulesDep: "kernel/a/virtio-rng.ko.xz: kernel/b/rng-core.ko.zst\nkernel/b/rng-core.ko.zst:\n" });
    expect([...tables.modules.keys()]).toEqual(["virtio_rng", "rng_core"]);
    expect(tables.modulesDir).toBe(DIR);
    expect(tables.problems).toEqual([]);
  });

  it("names the lines it cannot read", () => {
    const tables = parseModuleTables({ modulesDir: DIR, modulesDep: "kernel/a.ko:\ngarbage\n", modulesAlias: "alias x a\nalias y\n" });
    expect(tables.problems).toEqual([
      'modules.dep:2: not "PATH: DEPENDENCIES": garbage',
      'modules.alias:2: not "alias PATTERN MODULE": alias y',
    ]);
  });

  it("reads /proc/modules", () => {
    expect(parseProcModules("virtio_blk 20480 2 - Live 0x0000000000000000\nvirtio-ring 36864 3 virtio_blk, Live 0x0\n\n")).toEqual([
      "virtio_blk",
      "virtio_ring",
    ]);
  });
});

describe("/etc/modules and modules-load=", () => {
  it("reads Debian's /etc/modules: comments, blank lines, parameters", () => {
    const text = "# /etc/modules: kernel modules to load at boot time.\n\nloop max_loop=64\n  softdog   soft_margin=30 nowayout=1  \nbtrfs # for /srv\n";
    expect(parseEtcModules(text)).toEqual([
      { name: "loop", params: "max_loop=64", source: "/etc/modules:3" },
      { name: "softdog", params: "soft_margin=30 nowayout=1", source: "/etc/modules:4" },
      { name: "btrfs", params: "", source: "/etc/modules:5" },
    ]);
  });

  it("splits modules-load= at commas, as systemd does", () => {
    expect(parseModulesLoad("virtio_blk,,fs-btrfs, ")).toEqual([
      { name: "virtio_blk", params: "", source: "modules-load=virtio_blk" },
      { name: "fs-btrfs", params: "", source: "modules-load=fs-btrfs" },
    ]);
    expect(parseModulesLoad("a", "rd.modules-load")[0]!.source).toBe("rd.modules-load=a");
  });
});

describe("the plan", () => {
  it("puts dependencies first, each module once, with absolute paths", () => {
    const result = plan({ wanted: parseModulesLoad("virtio_blk,virtio_pci") });
    expect(result.problems).toEqual([]);
    expect(names(result.steps)).toEqual(["virtio_ring", "virtio", "virtio_blk", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci"]);
    expect(result.steps[2]).toEqual({
      name: "virtio_blk",
      path: `${DIR}/kernel/drivers/block/virtio_blk.ko`,
      params: "",
      reason: "modules-load=virtio_blk",
      needs: ["virtio", "virtio_ring"],
    });
    expect(result.steps[0]!.reason).toBe("needed by virtio");
    expect(describeModuleStep(result.steps[0]!)).toBe(`insmod ${DIR}/kernel/drivers/virtio/virtio_ring.ko`);
  });

  it("loads what the devices need first, then modules-load=, then /etc/modules", () => {
    const result = plan({
      modaliases: [VIRTIO_DISK_PCI, "pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00", VIRTIO_DISK_PCI],
      wanted: [...parseModulesLoad("softdog"), ...parseEtcModules("fs-btrfs\n")],
    });
    expect(result.problems).toEqual([]);
    expect(names(result.steps)).toEqual([
      "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_ring", "virtio", "virtio_pci",
      "softdog",
      "zstd_compress", "raid6_pq", "xor", "libcrc32c", "btrfs",
    ]);
    expect(result.steps[4]!.reason).toBe(`device ${VIRTIO_DISK_PCI}`);
    expect(result.steps[10]!.reason).toBe("/etc/modules:1");
  });

  it("skips what is loaded or built in, whatever its spelling", () => {
    const result = plan({ loaded: ["virtio-ring", "virtio"], wanted: parseModulesLoad("virtio-blk,ext4,fs-ext4,ext3,jbd2,crc32c-generic") });
    expect(result.problems).toEqual([]);
    expect(names(result.steps)).toEqual(["virtio_blk"]);
    expect(result.steps[0]!.needs).toEqual([]);
  });

  it("resolves aliases: a modalias, fs-TYPE, a bracket class, - as _", () => {
    expect(names(plan({ wanted: parseModulesLoad(VIRTIO_DISK) }).steps)).toEqual(["virtio_ring", "virtio", "virtio_blk"]);
    expect(names(plan({ wanted: parseModulesLoad("btrfs_control") }).steps).at(-1)).toBe("btrfs");
    expect(names(plan({ modaliases: ["scsi:t-0x0E"] }).steps)).toEqual(["scsi_common", "scsi_mod", "sd_mod"]);
    expect(names(plan({ modaliases: ["scsi:t-0x05"] }).steps)).toEqual([]);
  });

  it("prefers a module's own name to an alias of another", () => {
    const tables = parseModuleTables({ modulesDir: DIR, modulesDep: "kernel/a.ko:\nkernel/b.ko:\n", modulesAlias: "alias a b\n" });
    expect(names(planModules(tables, { loaded: [], modaliases: [], wanted: parseModulesLoad("a") }).steps)).toEqual(["a"]);
  });

  it("carries the parameters of every request to the module, and none to its dependencies", () => {
    const wanted = [...parseEtcModules("virtio_blk queue_depth=64\nbtrfs\n"), { name: "virtio-blk", params: "poll_queues=1", source: "x" }];
    const result = plan({ wanted });
    const byName = new Map(result.steps.map((step) => [step.name, step.params]));
    expect(byName.get("virtio_blk")).toBe("queue_depth=64 poll_queues=1");
    expect(byName.get("virtio")).toBe("");
  });

  it("names an unknown module and where it was asked for", () => {
    const result = plan({ wanted: [...parseEtcModules("# comment\nvirtio_blk\nfoo\n"), ...parseModulesLoad("bar")] });
    expect(result.problems).toEqual(["/etc/modules:3: no module named foo in the image", "modules-load=bar: no module named bar in the image"]);
    expect(names(result.steps)).toEqual(["virtio_ring", "virtio", "virtio_blk"]);
  });

  it("says when an alias names a module the image does not carry", () => {
    const tables = parseModuleTables({ ...FILES, modulesAlias: `${MODULES_ALIAS}alias fs-xfs xfs\n` });
    expect(planModules(tables, { loaded: [], modaliases: ["fs-xfs"], wanted: parseModulesLoad("fs-xfs") }).problems).toEqual([
      "modules-load=fs-xfs: no module named fs-xfs in the image (it is an alias of xfs, which the image does not carry)",
    ]);
  });

  it("says that parameters for a built-in module go on the kernel command line", () => {
    expect(plan({ wanted: parseEtcModules("ext4 debug_want_extra_isize=1\n") }).problems).toEqual([
      '/etc/modules:1: ext4 is built into the kernel, so "debug_want_extra_isize=1" is ignored: give it on the kernel command line as ext4.NAME=VALUE',
    ]);
  });

  it("leaves devices without a carried driver alone, quietly", () => {
    expect(plan({ modaliases: ["acpi:PNP0A03:", "cpu:type:x86,ven0000fam0006mod003F:feature:,0000"] })).toEqual({ steps: [], problems: [] });
  });

  it("cuts a dependency cycle and says so, instead of hanging", () => {
    const result = modulePlan({
      modulesDir: DIR,
      modulesDep: "kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/c.ko\nkernel/c.ko: kernel/a.ko\nkernel/self.ko: kernel/self.ko\n",
      loaded: [],
      modaliases: [],
      wanted: parseModulesLoad("a,self,c"),
    });
    expect(names(result.steps)).toEqual(["c", "b", "a", "self"]);
    expect(result.problems).toEqual([
      "modules.dep: a dependency cycle a -> b -> c -> a; c is loaded before a",
      "modules.dep: a dependency cycle self -> self; self is loaded before self",
    ]);
  });

  it("follows a chain of 20000 modules without overflowing the stack", () => {
    const count = 20000;
    const lines = Array.from({ length: count }, (_, i) => (i + 1 < count ? `m${i}.ko: m${i + 1}.ko` : `m${i}.ko:`));
    const result = modulePlan({ modulesDir: DIR, modulesDep: lines.join("\n"), loaded: [], modaliases: [], wanted: parseModulesLoad("m0") });
    expect(result.steps.length).toBe(count);
    expect(result.steps[0]!.name).toBe(`m${count - 1}`);
  });

  it("reports a dependency without a line of its own, once", () => {
    const result = modulePlan({
      modulesDir: DIR,
      modulesDep: "kernel/a.ko: kernel/gone.ko\nkernel/b.ko: kernel/gone.ko kernel/a.ko\n",
      loaded: [],
      modaliases: [],
      wanted: parseModulesLoad("b,a,b"),
    });
    expect(names(result.steps)).toEqual(["a", "b"]);
    expect(result.problems).toEqual([
      "modules.dep: b needs gone, which has no line of its own",
      "modules.dep: a needs gone, which has no line of its own",
    ]);
  });
});

describe("loading a plan", () => {
  /** Devices as a machine shows them: loading virtio_pci brings the virtio devices. */
  function machine(fail: Record<string, string> = {}) {
    const loaded: string[] = [];
    const devices = [VIRTIO_DISK_PCI, "pci:v00001AF4d00001005sv00001AF4sd00000004bc00scFFi00"];
    return {
      loaded,
      loader: {
        modaliases: () => (loaded.includes("virtio_pci") ? [...devices, VIRTIO_DISK, "virtio:d00000004v00001AF4"] : devices),
        load: (step: ModuleStep): ModuleLoadError | undefined => {
          const code = fail[step.name];
          if (code !== undefined) return { code, message: `finit_module ${step.path}: ${code}` };
          loaded.push(step.name);
          return undefined;
        },
      },
    };
  }

  it("loads the drivers of the devices the loaded drivers brought, round after round", () => {
    const fake = machine();
    const messages: string[] = [];
    const result = loadModules(TABLES, { loaded: [], wanted: parseModulesLoad("softdog") }, fake.loader, (m) => messages.push(m));
    expect(messages).toEqual([]);
    expect(result).toEqual({
      loaded: ["virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_ring", "virtio", "virtio_pci", "softdog", "virtio_blk", "virtio_rng"],
      failed: [],
    });
  });

  it("reports a failed module, skips what needs it, and never tries it twice", () => {
    const fake = machine({ virtio: "ENOEXEC" });
    const messages: string[] = [];
    const result = loadModules(TABLES, { loaded: [], wanted: parseModulesLoad("virtio_blk,foo") }, fake.loader, (m) => messages.push(m));
    expect(messages).toEqual([
      "modules-load=foo: no module named foo in the image",
      `module virtio (needed by virtio_pci) failed to load: finit_module ${DIR}/kernel/drivers/virtio/virtio.ko: ENOEXEC`,
      `module virtio_pci (device ${VIRTIO_DISK_PCI}) is not loaded: it needs virtio, which failed`,
      "module virtio_blk (modules-load=virtio_blk) is not loaded: it needs virtio, which failed",
    ]);
    expect(result).toEqual({ loaded: ["virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_ring"], failed: ["virtio", "virtio_pci", "virtio_blk"] });
  });

  it("takes EEXIST (the kernel's own modprobe got there first) as loaded", () => {
    const fake = machine({ softdog: "EEXIST" });
    const messages: string[] = [];
    const loader = { ...fake.loader, modaliases: () => [] };
    const result = loadModules(TABLES, { loaded: ["virtio_pci"], wanted: parseModulesLoad("softdog") }, loader, (m) => messages.push(m));
    expect(messages).toEqual([]);
    expect(result).toEqual({ loaded: ["softdog"], failed: [] });
  });

  it("stops after a bounded number of rounds even if devices keep coming", () => {
    let round = 0;
    const modulesDep = Array.from({ length: 20 }, (_, i) => `kernel/d${i}.ko:`).join("\n");
    const modulesAlias = Array.from({ length: 20 }, (_, i) => `alias dev:${i} d${i}`).join("\n");
    const tables = parseModuleTables({ modulesDir: DIR, modulesDep, modulesAlias });
    const result = loadModules(tables, { loaded: [], wanted: [] }, { modaliases: () => [`dev:${round++}`], load: () => undefined }, () => {});
    expect(result.loaded).toEqual(["d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7"]);
  });
});

// The real tables of the kernel `make kernel` caches, when this checkout has it. They add
// confidence that the parser reads what depmod writes; the fixtures above carry the tests.
const realDir = ".cache/kernel/modules";
describe.skipIf(!existsSync(`${realDir}/modules.dep`))("the cached kernel's tables", () => {
  const read = (name: string) => (existsSync(`${realDir}/${name}`) ? readFileSync(`${realDir}/${name}`, "latin1") : undefined);
  // Read in beforeAll: a skipped describe still runs its body to collect its tests.
  let tables: ReturnType<typeof parseModuleTables>;
  beforeAll(() => {
    tables = parseModuleTables({
      modulesDir: "/lib/modules/real",
      modulesDep: read("modules.dep")!,
      modulesAlias: read("modules.alias"),
      modulesBuiltin: read("modules.builtin"),
      modulesBuiltinModinfo: read("modules.builtin.modinfo"),
    });
  });

  it("reads every line", () => {
    expect(tables.problems).toEqual([]);
    expect(tables.modules.size).toBeGreaterThan(100);
  });

  it("plans a virtio disk from its modalias", () => {
    const result = planModules(tables, { loaded: [], modaliases: [VIRTIO_DISK_PCI, VIRTIO_DISK], wanted: parseModulesLoad("fs-ext4") });
    expect(result.problems).toEqual([]);
    const order = names(result.steps);
    expect(order).toContain("virtio_pci");
    expect(order).toContain("virtio_blk");
    expect(order.indexOf("virtio_ring")).toBeLessThan(order.indexOf("virtio_blk"));
  });

  it("plans every module it has, each after its dependencies", () => {
    const wanted = [...tables.modules.keys()].map((name) => ({ name, params: "", source: "all" }));
    const result = planModules(tables, { loaded: [], modaliases: [], wanted });
    expect(result.problems).toEqual([]);
    expect(result.steps.length).toBe(tables.modules.size);
    const position = new Map(result.steps.map((step, index) => [step.name, index]));
    for (const step of result.steps) {
      for (const dep of tables.modules.get(step.name)!.deps) expect(position.get(dep)!).toBeLessThan(position.get(step.name)!);
    }
  });
});

describe("a root without module tables (the real root, past switch_root)", () => {
  it("says nothing of a module the initramfs loaded already, and names one that is missing", async () => {
    const { FakeSys } = await import("./fakes/fake-sys.ts");
    const { BootModules } = await import("../../src/boot/module-loading.ts");
    const { BootRecord } = await import("../../src/boot/boot-record.ts");
    const { Log } = await import("../../src/log/log.ts");
    const sys = new FakeSys();
    sys.files.set("/proc/sys/kernel/osrelease", "6.1.0-57-cloud-amd64\n");
    sys.files.set("/proc/modules", "softdog 16384 0 - Live 0x0000000000000000\nwatchdog 40960 1 softdog, Live 0x0000000000000000\n");
    sys.dirs.add("/sys/module/virtio_blk");
    const lines: string[] = [];
    const log = new Log({ console: (line) => lines.push(line), kmsg: () => false }, { consoleThreshold: 7, kernelConsoleLevel: 0 });
    const modules = BootModules.open(sys, log, new BootRecord("root", () => 0));
    modules.loadAtBoot([{ name: "softdog", params: "", source: "modules-load=" }, { name: "virtio-blk", params: "", source: "modules-load=" }], false);
    expect(lines.filter((line) => line.includes("cannot load"))).toEqual([]);
    modules.loadAtBoot([{ name: "softdog", params: "", source: "modules-load=" }, { name: "loop", params: "", source: "modules-load=" }], false);
    expect(lines.filter((line) => line.includes("cannot load"))).toEqual([expect.stringContaining("cannot load loop (modules-load=): this image carries no modules.dep")]);
  });
});

/**
 * `text` as globMatch sees it, counting the characters read from it (the matcher's steps), and
 * throwing past `limit` reads: a matcher that backtracks exponentially fails at the bound
 * instead of running for ages, and no clock is needed to tell.
 */
function countedReads(text: string, limit: number): { value: string; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(new String(text), {
    get(target, key) {
      if (typeof key === "string" && /^[0-9]+$/.test(key)) {
        if (++reads > limit) throw new Error(`more than ${limit} characters read`);
        return text[Number(key)];
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { value: counted as unknown as string, reads: () => reads };
}
