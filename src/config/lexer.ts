// Splits a service description into setting lines, following dinit's value syntax:
//
//   setting = value      (also `setting: value`, and `setting += value` to append)
//
// Comments start with `#` at the start of a line or after whitespace. In a value, whitespace
// separates words (runs collapse to one separator); double quotes keep whitespace and `#`
// literal; a backslash makes the next character literal, inside quotes too. A line ending in a
// single backslash continues on the next line, which must begin with whitespace. `$` is not
// special here: substitution (substitute.ts) runs on the words afterwards, as in dinit.

import type { Diagnostic } from "./diagnostic.ts";

export type SettingOp = "=" | ":" | "+=";

export interface SettingLine {
  /** 1-based line the setting starts on. */
  line: number;
  /** The file the line is in, when it came from an `@include`d file. */
  file?: string;
  setting: string;
  op: SettingOp;
  /** The value split into words, quotes and escapes removed. */
  words: string[];
  /** The words joined by single spaces: the value of settings that take one string. */
  value: string;
}

export interface LexResult {
  settings: SettingLine[];
  diagnostics: Diagnostic[];
  /** `@meta enable-via NAME`: the service `enable` adds this one to (dinit). */
  enableVia?: { name: string; line: number; file: string };
}

/**
 * What an `@include PATH` (or `@include-opt PATH`) line reads: the file's text and path, absent
 * when there is no such file, or why it cannot be read. The caller substitutes and resolves
 * PATH (it has the service argument and the file system).
 */
export type IncludeReader = (path: string, from: string) => { file: string; text: string } | { absent: string } | { error: string };

export interface LexOptions {
  /** Without one, `@include` is an error (the caller has no file system). */
  include?: IncludeReader;
}

/** How deep `@include` may nest: a file that includes itself is caught long before. */
export const MAX_INCLUDE_DEPTH = 8;

/**
 * What all the `@include`d files of one service may add up to, however they nest: without a
 * total, k includes per file give k^MAX_INCLUDE_DEPTH reads in PID 1. The bytes match the
 * limit on one service file (LIMITS.fileBytes in load.ts).
 */
export const MAX_INCLUDED_FILES = 64;
export const MAX_INCLUDED_BYTES = 1024 * 1024;

/** What the includes of one service have used so far; once over, no more files are read. */
interface IncludeBudget {
  files: number;
  bytes: number;
  exhausted: boolean;
}

/**
 * The longest line, continuation lines joined, in characters. No real setting comes near it;
 * the bound keeps what one line costs to split into words small (issue 9).
 */
export const MAX_LINE_LENGTH = 64 * 1024;

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*/;
const WHITESPACE = /\s/;

/** A setting value that could not be read, with the reason in words. */
class ValueError extends Error {}

/**
 * Read every setting line of `text`. Lines that cannot be read give an error diagnostic naming
 * `file` and the line, and are skipped, so that one pass reports every bad line.
 */
export function lexServiceFile(text: string, file: string, options: LexOptions = {}): LexResult {
  const result: LexResult = { settings: [], diagnostics: [] };
  lexInto(result, text, file, options, [file], { files: 0, bytes: 0, exhausted: false });
  return result;
}

function lexInto(result: LexResult, text: string, file: string, options: LexOptions, chain: readonly string[], budget: IncludeBudget): void {
  const { settings, diagnostics } = result;
  const included = chain.length > 1;
  const error = (line: number, message: string, setting?: string): void => {
    diagnostics.push({ severity: "error", file, line, ...(setting !== undefined && { setting }), message });
  };

  const physical = text.split(/\r?\n/);
  for (let index = 0; index < physical.length; index++) {
    const lineNo = index + 1;
    let line = physical[index] ?? "";

    // Join continuation lines: an odd number of trailing backslashes escapes the newline. A
    // line past the limit stops growing but its continuation lines are still consumed.
    let tooLong = line.length > MAX_LINE_LENGTH;
    let continuationError = false;
    while (endsWithOddBackslashes(line)) {
      const next = physical[index + 1];
      if (next === undefined) {
        error(lineNo, "a backslash at the end of the file has no line to continue");
        continuationError = true;
        break;
      }
      if (next.length === 0 || !WHITESPACE.test(next[0] ?? "")) {
        error(index + 2, "a continued line must begin with whitespace");
        continuationError = true;
        index++; // the bad continuation line is part of this error, not a setting of its own
        break;
      }
      line = tooLong ? next : line.slice(0, -1) + " " + next;
      tooLong ||= line.length > MAX_LINE_LENGTH;
      index++;
    }
    if (continuationError) continue;
    if (tooLong) {
      error(lineNo, `the line is longer than ${MAX_LINE_LENGTH} characters (continuation lines included)`);
      continue;
    }

    const trimmed = line.trimStart();
    if (trimmed === "" || trimmed.startsWith("#")) continue;

    if (trimmed.startsWith("@")) {
      const meta = /^@([A-Za-z-]*)/.exec(trimmed)?.[1] ?? "";
      let words: string[];
      try {
        words = splitValue(trimmed.slice(meta.length + 1));
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        error(lineNo, e.message, `@${meta}`);
        continue;
      }
      if (meta === "meta") {
        // Information for other tools; `enable-via` is dinit's, for `enable` and `disable`.
        if (words[0] === "enable-via") {
          if (words.length !== 2) error(lineNo, "expected one service name after enable-via", "@meta");
          else result.enableVia = { name: words[1] as string, line: lineNo, file };
        }
        continue;
      }
      if (meta === "include" || meta === "include-opt") {
        includeFile(result, meta, words, lineNo, file, options, chain, budget, error);
      } else {
        error(lineNo, `unknown meta-command "@${meta}"`);
      }
      continue;
    }

    const name = SETTING_NAME.exec(trimmed)?.[0];
    if (name === undefined) {
      error(lineNo, `expected a setting name, found ${JSON.stringify(trimmed)}`);
      continue;
    }
    let rest = trimmed.slice(name.length).trimStart();
    let op: SettingOp;
    if (rest.startsWith("+=")) {
      op = "+=";
      rest = rest.slice(2);
    } else if (rest.startsWith("=") || rest.startsWith(":")) {
      op = rest[0] as "=" | ":";
      rest = rest.slice(1);
    } else {
      error(lineNo, `expected "=" or ":" after the setting name`, name);
      continue;
    }

    try {
      const words = splitValue(rest);
      settings.push({ line: lineNo, ...(included && { file }), setting: name, op, words, value: words.join(" ") });
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      error(lineNo, e.message, name);
    }
  }
}

/**
 * dinit's `@include PATH` and `@include-opt PATH`: the settings of another file, read here as
 * if they stood at this line. A missing file is an error for `@include` and nothing for
 * `@include-opt`; a file that is there but cannot be read is an error for both.
 */
function includeFile(
  result: LexResult,
  meta: "include" | "include-opt",
  words: string[],
  lineNo: number,
  file: string,
  options: LexOptions,
  chain: readonly string[],
  budget: IncludeBudget,
  error: (line: number, message: string, setting?: string) => void,
): void {
  const setting = `@${meta}`;
  if (options.include === undefined) return error(lineNo, "cannot include files here", setting);
  if (words.length !== 1) return error(lineNo, "expected one file name", setting);
  if (chain.length > MAX_INCLUDE_DEPTH) return error(lineNo, `includes nest deeper than ${MAX_INCLUDE_DEPTH} files`, setting);
  // One error for the whole service once its budget is spent; later includes are skipped.
  if (budget.exhausted) return;
  if (budget.files >= MAX_INCLUDED_FILES) {
    budget.exhausted = true;
    return error(lineNo, `the service includes more than ${MAX_INCLUDED_FILES} files in all`, setting);
  }
  budget.files++;
  const found = options.include(words[0] as string, file);
  if ("error" in found) return error(lineNo, found.error, setting);
  if ("absent" in found) {
    if (meta === "include") error(lineNo, `${JSON.stringify(found.absent)}: no such file`, setting);
    return;
  }
  if (chain.includes(found.file)) return error(lineNo, `${JSON.stringify(found.file)} includes itself (${[...chain, found.file].join(" -> ")})`, setting);
  budget.bytes += found.text.length;
  if (budget.bytes > MAX_INCLUDED_BYTES) {
    budget.exhausted = true;
    return error(lineNo, `the service's included files add up to more than ${MAX_INCLUDED_BYTES} bytes`, setting);
  }
  lexInto(result, found.text, found.file, options, [...chain, found.file], budget);
}

function endsWithOddBackslashes(line: string): boolean {
  let count = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === "\\"; i--) count++;
  return count % 2 === 1;
}

/** Split a value into words: whitespace separates, quotes group, backslash escapes, `#` comments. */
export function splitValue(value: string): string[] {
  const words: string[] = [];
  let current = "";
  // A word exists once any character or quote is seen, so `""` gives one empty word.
  let inWord = false;
  let i = 0;
  const s = value;

  while (i < s.length) {
    const c = s[i] as string;
    if (WHITESPACE.test(c)) {
      if (inWord) {
        words.push(current);
        current = "";
        inWord = false;
      }
      while (i < s.length && WHITESPACE.test(s[i] as string)) i++;
      if (s[i] === "#") break; // comment after whitespace
      continue;
    }
    if (c === "#") {
      // A value may not start a comment without whitespace before it: "a#b" is a mistake more
      // often than a comment. At the very start (`setting =# ...`) it is a comment.
      if (!inWord && words.length === 0) break;
      throw new ValueError(`"#" starts a comment only after whitespace; quote or escape it`);
    }
    inWord = true;
    if (c === "\\") {
      // The lexer joined continuation lines, so a lone trailing backslash cannot occur here.
      current += s[i + 1] ?? "";
      i += 2;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const q = s[i] as string;
        if (q === '"') {
          closed = true;
          i++;
          break;
        }
        if (q === "\\") {
          current += s[i + 1] ?? "";
          i += 2;
          continue;
        }
        const end = plainRunEnd(s, i, true);
        current += s.slice(i, end);
        i = end;
      }
      if (!closed) throw new ValueError("unterminated quoted string");
      continue;
    }
    // A run of ordinary characters is taken as one slice: adding a character at a time makes
    // a string of 60,000 characters a chain of 60,000 pieces in Bun (a rope), kept as such.
    const end = plainRunEnd(s, i, false);
    current += s.slice(i, end);
    i = end;
  }
  if (inWord) words.push(current);
  return words;
}

/** Where the run of characters that stand for themselves, from `i`, ends (in quotes: any but `"` and `\\`). */
function plainRunEnd(s: string, i: number, quoted: boolean): number {
  let end = i;
  while (end < s.length) {
    const c = s[end] as string;
    if (c === '"' || c === "\\" || (!quoted && (c === "#" || WHITESPACE.test(c)))) break;
    end++;
  }
  return end;
}
