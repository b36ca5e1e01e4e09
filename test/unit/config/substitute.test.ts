import { describe, expect, it } from "vitest";
import {
  checkReferences,
  MissingArgumentError,
  substituteArgument,
  substituteNow,
  substituteValue,
  substituteVars,
  SubstitutionError,
} from "../../../src/config/substitute.ts";

const env = { HOME: "/root", ARGS: "-a  -b", EMPTY: "", SPACED: " x ", X: "x" };

describe("substituteVars (start time)", () => {
  it("substitutes $VAR and ${VAR} inside a word without splitting", () => {
    expect(substituteVars(["/bin/ls", "$HOME/dir", "${HOME}x", "$ARGS"], env)).toEqual([
      "/bin/ls",
      "/root/dir",
      "/rootx",
      "-a  -b",
    ]);
  });
  it("ends a name at the first character that is not a letter, digit or _", () => {
    expect(substituteVars(["$X.y", "$X-y", "$X_y"], env)).toEqual(["x.y", "x-y", ""]);
  });
  it("gives an empty argument for an unset or empty variable", () => {
    expect(substituteVars(["a", "$UNSET", "$EMPTY", "b"], env)).toEqual(["a", "", "", "b"]);
  });
  it("splits $/VAR at whitespace into separate arguments", () => {
    expect(substituteVars(["cmd", "$/ARGS", "end"], env)).toEqual(["cmd", "-a", "-b", "end"]);
    expect(substituteVars(["$/{ARGS}"], env)).toEqual(["-a", "-b"]);
  });
  it("drops an argument that a split leaves empty", () => {
    expect(substituteVars(["cmd", "$/EMPTY", "$/UNSET", "end"], env)).toEqual(["cmd", "end"]);
  });
  it("joins split pieces with text around them", () => {
    expect(substituteVars(["pre$/ARGS/post"], env)).toEqual(["pre-a", "-b/post"]);
    expect(substituteVars(["pre$/SPACED/post"], env)).toEqual(["pre", "x", "/post"]);
  });
  it("turns $$ into $ and does not substitute after it", () => {
    expect(substituteVars(["$$HOME", "cost$$", "$$$HOME"], env)).toEqual(["$HOME", "cost$", "$/root"]);
  });
  it("supports the :- - :+ + forms", () => {
    expect(
      substituteVars(
        ["${UNSET:-def}", "${EMPTY:-def}", "${EMPTY-def}", "${X:+alt}", "${EMPTY+alt}", "${EMPTY:+alt}", "${UNSET+alt}"],
        env,
      ),
    ).toEqual(["def", "def", "", "alt", "alt", "", ""]);
  });
  it("leaves malformed references as written instead of failing", () => {
    expect(substituteVars(["a$", "$%", "${X"], env)).toEqual(["a$", "$%", "${X"]);
  });
  it("does not change the input array", () => {
    const argv = ["$HOME"];
    substituteVars(argv, env);
    expect(argv).toEqual(["$HOME"]);
  });
});

describe("substituteValue", () => {
  it("substitutes without splitting", () => {
    expect(substituteValue("/var/log/$X/$/ARGS.log", env)).toBe("/var/log/x/-a  -b.log");
    expect(substituteValue("$$X", env)).toBe("$X");
  });
});

describe("checkReferences", () => {
  it("accepts well-formed references", () => {
    expect(() => checkReferences("$A ${B} $/C ${D:-x} $$ $1 ${1:+y}")).not.toThrow();
  });
  it.each([
    ["$", /must be followed by a variable name/],
    ["a $ b", /must be followed by a variable name/],
    ["$-x", /must be followed by a variable name/],
    ["$2", /only \$1/],
    ["${X", /unmatched "\{"/],
    ["${X:-oops", /unmatched "\{"/],
    ["${X:y}", /expected "-" or "\+" after ":"/],
  ])("rejects %s", (text, message) => {
    expect(() => checkReferences(text)).toThrow(SubstitutionError);
    expect(() => checkReferences(text)).toThrow(message);
  });
});

describe("substituteArgument (load time, commands and paths)", () => {
  it("replaces $1 and ${1} and keeps other references and $$ for start time", () => {
    expect(
      substituteArgument(["/sbin/agetty", "$1", "tty-${1}", "$TERM", "$$1", "${X:-d}"], "tty1", { splitWords: true }),
    ).toEqual(["/sbin/agetty", "tty1", "tty-tty1", "$TERM", "$$1", "${X:-d}"]);
  });
  it("doubles a $ in the argument so start time keeps it", () => {
    const words = substituteArgument(["$1"], "a$HOME", { splitWords: true });
    expect(words).toEqual(["a$$HOME"]);
    expect(substituteVars(words, env)).toEqual(["a$HOME"]);
  });
  it("splits $/1 into words", () => {
    expect(substituteArgument(["x", "$/1"], "p q", { splitWords: true })).toEqual(["x", "p", "q"]);
  });
  it("fails on $1 with no argument, unless a default is given", () => {
    expect(() => substituteArgument(["$1"], undefined, { splitWords: true })).toThrow(MissingArgumentError);
    expect(substituteArgument(["${1:-none}"], undefined, { splitWords: true })).toEqual(["none"]);
  });
});

describe("substituteNow (load time, names)", () => {
  it("replaces the argument and variables at once", () => {
    expect(substituteNow("getty@$1", "tty2", {})).toBe("getty@tty2");
    expect(substituteNow("net-$IF", undefined, { IF: "eth0" })).toBe("net-eth0");
    expect(substituteNow("a$$b", undefined, {})).toBe("a$b");
  });
});
