import { describe, expect, it } from "vitest";
import { type IncludeReader, lexServiceFile, MAX_INCLUDED_BYTES, MAX_INCLUDED_FILES, splitValue } from "../../../src/config/lexer.ts";
import { formatDiagnostic } from "../../../src/config/diagnostic.ts";

const F = "/etc/tsinit.d/svc";

describe("splitValue", () => {
  it("splits on whitespace and collapses runs", () => {
    expect(splitValue("/bin/sleep   10\t 20")).toEqual(["/bin/sleep", "10", "20"]);
  });
  it("keeps whitespace and # inside double quotes", () => {
    expect(splitValue('/bin/echo "a  b # c" d')).toEqual(["/bin/echo", "a  b # c", "d"]);
  });
  it("joins quoted and unquoted parts of one word", () => {
    expect(splitValue('--name="my service"x')).toEqual(["--name=my servicex"]);
  });
  it("keeps an empty quoted word", () => {
    expect(splitValue('a "" b')).toEqual(["a", "", "b"]);
  });
  it("makes the next character literal after a backslash, inside quotes too", () => {
    expect(splitValue('a\\ b \\"q\\" "x\\"y" \\\\ \\#')).toEqual(["a b", '"q"', 'x"y', "\\", "#"]);
  });
  it("does not give backslash-n a special meaning", () => {
    expect(splitValue("a\\nb")).toEqual(["anb"]);
  });
  it("ends the value at a # after whitespace", () => {
    expect(splitValue("foo bar # a comment")).toEqual(["foo", "bar"]);
  });
  it("rejects # glued to a word", () => {
    expect(() => splitValue("foo#bar")).toThrow(/after whitespace/);
  });
  it("rejects an unterminated quote", () => {
    expect(() => splitValue('"abc')).toThrow("unterminated quoted string");
  });
  it("leaves $ alone", () => {
    expect(splitValue('$HOME "$X" $$')).toEqual(["$HOME", "$X", "$$"]);
  });
});

describe("lexServiceFile", () => {
  it("reads =, : and += with line numbers, skipping comments and blank lines", () => {
    const text = [
      "# a comment",
      "",
      "   type = process   ",
      "depends-on: net",
      "command += --verbose",
      "\t# indented comment",
      "waits-for:log # trailing comment",
    ].join("\n");
    const { settings, diagnostics } = lexServiceFile(text, F);
    expect(diagnostics).toEqual([]);
    expect(settings.map((s) => [s.line, s.setting, s.op, s.words])).toEqual([
      [3, "type", "=", ["process"]],
      [4, "depends-on", ":", ["net"]],
      [5, "command", "+=", ["--verbose"]],
      [7, "waits-for", ":", ["log"]],
    ]);
  });

  it("gives the joined value for single-string settings", () => {
    const { settings } = lexServiceFile('working-dir = /srv/"my  dir"', F);
    expect(settings[0]?.value).toBe("/srv/my  dir");
  });

  it("reports a line with no = or : naming file, line and setting, and goes on", () => {
    const { settings, diagnostics } = lexServiceFile("type = process\ncommand /bin/true\nrestart = no\n", F);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${F}:2: command: expected "=" or ":" after the setting name`,
    ]);
    expect(settings.map((s) => s.setting)).toEqual(["type", "restart"]);
  });

  it("reports a line that does not start with a setting name", () => {
    const { diagnostics } = lexServiceFile("= value\n", F);
    expect(diagnostics.map(formatDiagnostic)).toEqual([`${F}:1: expected a setting name, found "= value"`]);
  });

  it("reports value errors with the setting", () => {
    const { diagnostics } = lexServiceFile('command = /bin/echo "oops\n', F);
    expect(diagnostics.map(formatDiagnostic)).toEqual([`${F}:1: command: unterminated quoted string`]);
  });

  it("joins a continued line that begins with whitespace", () => {
    const { settings, diagnostics } = lexServiceFile("command = /bin/echo a \\\n    b c\nrestart = yes\n", F);
    expect(diagnostics).toEqual([]);
    expect(settings[0]).toMatchObject({ line: 1, words: ["/bin/echo", "a", "b", "c"] });
    expect(settings[1]).toMatchObject({ line: 3, setting: "restart" });
  });

  it("treats an escaped backslash at the end as a literal backslash", () => {
    const { settings } = lexServiceFile("command = /bin/echo a\\\\\n", F);
    expect(settings[0]?.words).toEqual(["/bin/echo", "a\\"]);
  });

  it("rejects a continuation line without leading whitespace", () => {
    const { diagnostics } = lexServiceFile("command = a \\\nb\n", F);
    expect(diagnostics.map(formatDiagnostic)).toEqual([`${F}:2: a continued line must begin with whitespace`]);
  });

  it("ignores @meta and refuses @include without a file system", () => {
    const { settings, diagnostics } = lexServiceFile("@meta enable-via foo\n@include other\n@bogus\n", F);
    expect(settings).toEqual([]);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${F}:2: @include: cannot include files here`,
      `${F}:3: unknown meta-command "@bogus"`,
    ]);
  });

  it("accepts CRLF line ends", () => {
    const { settings } = lexServiceFile("type = internal\r\nrestart = no\r\n", F);
    expect(settings.map((s) => s.value)).toEqual(["internal", "no"]);
  });

  it("caps the files all of a service's includes read, however they fan out", () => {
    // Every file down to depth 7 includes three distinct new files: within the depth limit,
    // yet without a total that is 3 + 9 + ... + 3^7 (3279) reads.
    let reads = 0;
    const include: IncludeReader = (_word, from) => {
      reads++;
      const depth = from.split(".").length;
      const includes = depth < 7 ? "@include x\n@include x\n@include x\n" : "";
      return { file: `${from}.${reads}`, text: `${includes}restart = yes\n` };
    };
    const { diagnostics, settings } = lexServiceFile("@include x\n@include x\n@include x\n", F, { include });
    expect(reads).toBe(MAX_INCLUDED_FILES);
    expect(settings.length).toBe(MAX_INCLUDED_FILES);
    const errors = diagnostics.map(formatDiagnostic);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^${F}\\.[0-9.]+:[123]: @include: the service includes more than ${MAX_INCLUDED_FILES} files in all$`));
  });

  it("caps the bytes of all included files together, naming the line that passes it", () => {
    const big = "# a comment line\n".repeat(MAX_INCLUDED_BYTES / 2 / 16);
    let reads = 0;
    const include: IncludeReader = () => ({ file: `/etc/tsinit.d/part${++reads}`, text: big });
    const { diagnostics } = lexServiceFile("@include a\n@include b\n@include c\n", F, { include });
    expect(reads).toBe(2);
    expect(diagnostics.map(formatDiagnostic)).toEqual([`${F}:2: @include: the service's included files add up to more than ${MAX_INCLUDED_BYTES} bytes`]);
  });
});
