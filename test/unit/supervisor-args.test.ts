// Supervisor mode's command line: dinit's user-mode conveniences and the default directory.
import { describe, expect, it } from "vitest";
import { defaultServicesDir } from "../../src/config/default-dirs.ts";
import { parseSupervisorArgs } from "../../src/supervisor-args.ts";

const user = { uid: 1000, env: { HOME: "/home/u", XDG_CONFIG_HOME: "/home/u/.cfg" } };

describe("supervisor mode arguments", () => {
  it("takes --quiet, --ready-fd and --exit-when-idle", () => {
    expect(parseSupervisorArgs(["--services-dir", "/s", "--quiet", "--ready-fd", "5", "--exit-when-idle"], user)).toEqual({
      servicesDirs: ["/s"],
      target: "boot",
      debug: false,
      quiet: true,
      readyFd: 5,
      exitWhenIdle: true,
    });
    expect(() => parseSupervisorArgs(["--services-dir", "/s", "--ready-fd", "1"], user)).toThrow("--ready-fd needs a descriptor number of 3 or more, not \"1\"");
    expect(() => parseSupervisorArgs(["--services-dir", "/s", "--ready-fd", "x"], user)).toThrow("--ready-fd needs a descriptor number of 3 or more");
    expect(() => parseSupervisorArgs(["--services-dir", "/s", "--quiet", "--debug"], user)).toThrow("--debug and --quiet contradict each other");
  });

  it("defaults a user's services directory to $XDG_CONFIG_HOME/tsinit.d, else ~/.config/tsinit.d; root must name one", () => {
    expect(parseSupervisorArgs([], user).servicesDirs).toEqual(["/home/u/.cfg/tsinit.d"]);
    expect(parseSupervisorArgs([], { uid: 1000, env: { HOME: "/home/u/" } }).servicesDirs).toEqual(["/home/u/.config/tsinit.d"]);
    expect(parseSupervisorArgs([], { uid: 1000, env: { HOME: "/home/u", XDG_CONFIG_HOME: "relative" } }).servicesDirs).toEqual(["/home/u/.config/tsinit.d"]);
    expect(() => parseSupervisorArgs([], { uid: 1000, env: {} })).toThrow("--services-dir DIR is required (neither XDG_CONFIG_HOME nor HOME is set)");
    expect(() => parseSupervisorArgs([], { uid: 0, env: { HOME: "/root" } })).toThrow("--services-dir DIR is required when running as root");
    expect(defaultServicesDir(0, {})).toBe("/etc/tsinit.d");
  });
});
