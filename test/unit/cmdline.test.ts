import { describe, expect, it } from "vitest";
import { parseCommandLine, splitCommandLine } from "../../src/boot/cmdline.ts";

describe("kernel command line", () => {
  it("splits at spaces and keeps double-quoted values together", () => {
    expect(splitCommandLine('console=ttyS0  tsinit.runner="/bin/sh -x"\n')).toEqual(["console=ttyS0", "tsinit.runner=/bin/sh -x"]);
  });

  it("defaults: read-only root, no root, nothing special", () => {
    expect(parseCommandLine("")).toEqual({ readOnly: true, single: false, rdBreak: false, debug: false, quiet: false, modulesLoad: [], runnerArgs: [], runnerAfter: [], watchdog: [] });
  });

  it("reads the root settings, with rootwait defaulting to 30 s when root= is given", () => {
    const line = parseCommandLine("root=LABEL=root rootfstype=ext4 rootflags=noatime rw");
    expect(line).toMatchObject({ root: "LABEL=root", rootfstype: "ext4", rootflags: "noatime", readOnly: false, rootwaitSeconds: 30 });
    expect(parseCommandLine("root=/dev/vda rootwait=5").rootwaitSeconds).toBe(5);
    expect(parseCommandLine("rootwait").rootwaitSeconds).toBeUndefined();
  });

  it("takes the device of the last console=, without its options", () => {
    expect(parseCommandLine("console=tty0 console=ttyS0,115200n8").console).toBe("ttyS0");
  });

  it("recognises single-user, breaks, the runner, the target and verbosity", () => {
    for (const word of ["single", "S", "1"]) expect(parseCommandLine(word).single).toBe(true);
    expect(parseCommandLine("rd.break").rdBreak).toBe(true);
    expect(parseCommandLine("tsinit.break").rdBreak).toBe(true);
    expect(parseCommandLine("tsinit.runner=/etc/rc tsinit.target=rescue tsinit.debug quiet init=/bin/sh")).toMatchObject({
      runner: "/etc/rc",
      target: "rescue",
      debug: true,
      quiet: true,
      init: "/bin/sh",
    });
  });
});
