// Variable substitution in service settings, with dinit's rules:
//
//   $NAME  ${NAME}        the variable's value, inside the same word (no word splitting,
//                         even unquoted; an unset variable gives an empty string)
//   $/NAME $/{NAME}       the value split at whitespace into separate words; a word that
//                         is left empty by such a split disappears
//   ${NAME:-word} ${NAME-word}   `word` when NAME is unset (`:-`: or empty)
//   ${NAME:+word} ${NAME+word}   `word` when NAME is set (`:+`: and not empty)
//   $1 ${1}               the service argument (the part after `@` in `name@arg`)
//   $$                    a literal `$`
//
// Quotes do not stop substitution (dinit removes quotes before substituting); `$$` is the only
// escape. A NAME starts with a letter or `_` and goes on with letters, digits and `_`.
//
// Substitution happens in two steps. When a file is loaded, only `$1` is replaced (and names of
// dependencies are substituted completely, since loading needs them). Commands and paths keep
// their other references, and the supervisor calls substituteVars / substituteValue when it
// starts the service, with the environment the service will get.

/** Resolver answer: leave the reference as written (for a later substitution). */
const KEEP = Symbol("keep");
/** Resolver answer: the service argument is needed but the service has none. */
const MISSING_ARGUMENT = Symbol("missing-argument");

type Resolved = string | undefined | typeof KEEP | typeof MISSING_ARGUMENT;
type Resolver = (name: string) => Resolved;

interface Literal {
  kind: "literal";
  text: string;
}
interface Reference {
  kind: "reference";
  name: string;
  split: boolean;
  /** `-` (default) or `+` (alternative), with `colon` when empty counts as unset. */
  mode?: "-" | "+";
  colon: boolean;
  word: string;
  /** The reference exactly as written, to put back when it is kept. */
  source: string;
}
type Segment = Literal | Reference | { kind: "dollar" };

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;

/** Thrown by the scanner in strict mode; the message says what is wrong. */
export class SubstitutionError extends Error {}

/** `$1` was used but the service was loaded without an argument: the file is a template. */
export class MissingArgumentError extends SubstitutionError {}

/**
 * Cut a string into literal text, `$$` and references. In strict mode a malformed reference
 * throws SubstitutionError; otherwise it is kept as literal text, so that start-time
 * substitution never fails on a value the parser has already checked.
 */
function scan(s: string, strict: boolean): Segment[] {
  const out: Segment[] = [];
  let literal = "";
  const flush = (): void => {
    if (literal !== "") out.push({ kind: "literal", text: literal });
    literal = "";
  };
  const bad = (message: string, at: number): number => {
    if (strict) throw new SubstitutionError(message);
    literal += "$";
    return at + 1;
  };

  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c !== "$") {
      // Up to the next `$` as one slice: a character at a time would keep a long word as a
      // rope of one piece per character (Bun), 2 MB for a 60 KB command word.
      const next = s.indexOf("$", i);
      const end = next < 0 ? s.length : next;
      literal += s.slice(i, end);
      i = end;
      continue;
    }
    if (s[i + 1] === "$") {
      flush();
      out.push({ kind: "dollar" });
      i += 2;
      continue;
    }
    const start = i;
    let j = i + 1;
    const split = s[j] === "/";
    if (split) j++;
    const brace = s[j] === "{";
    if (brace) j++;
    let name = "";
    if (DIGIT.test(s[j] ?? "")) {
      while (DIGIT.test(s[j] ?? "")) name += s[j++];
      if (name !== "1") {
        i = bad(`"$${name}": only $1 (the service argument) may be used`, i);
        continue;
      }
    } else if (NAME_START.test(s[j] ?? "")) {
      while (NAME_CHAR.test(s[j] ?? "")) name += s[j++];
    } else {
      i = bad(`"$" must be followed by a variable name (write "$$" for a literal "$")`, i);
      continue;
    }
    let mode: "-" | "+" | undefined;
    let colon = false;
    let word = "";
    if (brace) {
      if (s[j] === ":") {
        colon = true;
        j++;
        if (s[j] !== "-" && s[j] !== "+") {
          i = bad(`\${${name}:...}: expected "-" or "+" after ":"`, i);
          continue;
        }
      }
      if (s[j] === "-" || s[j] === "+") {
        mode = s[j] as "-" | "+";
        j++;
        const close = s.indexOf("}", j);
        if (close < 0) {
          i = bad(`unmatched "{" in "${s.slice(start)}"`, i);
          continue;
        }
        word = s.slice(j, close);
        j = close;
      }
      if (s[j] !== "}") {
        i = bad(`unmatched "{" in "${s.slice(start)}"`, i);
        continue;
      }
      j++;
    }
    flush();
    out.push({
      kind: "reference",
      name,
      split,
      ...(mode !== undefined && { mode }),
      colon,
      word,
      source: s.slice(start, j),
    });
    i = j;
  }
  flush();
  return out;
}

/** Apply `:-`, `-`, `:+`, `+` to a resolved value. */
function applyMode(ref: Reference, value: string | undefined): string | undefined {
  if (ref.mode === "-") {
    return value === undefined || (ref.colon && value === "") ? ref.word : value;
  }
  if (ref.mode === "+") {
    return value !== undefined && (!ref.colon || value !== "") ? ref.word : "";
  }
  return value;
}

interface ExpandOptions {
  /** Honour `$/NAME` word splitting (commands); otherwise `$/NAME` acts like `$NAME`. */
  splitWords: boolean;
  /** Write `$$` back as `$$` (the result will be substituted again later). */
  keepDollars: boolean;
  /** Throw SubstitutionError on malformed references. */
  strict: boolean;
}

/** Expand one word; it may become several words (`$/NAME`) or none. */
function expandWord(word: string, resolve: Resolver, options: ExpandOptions): string[] {
  // Nothing to substitute: the word itself, not a copy. The instances of a template share the
  // template's words this way (measured: 9990 instances of 800-word commands held 228 MB of
  // copies; shared, their arrays are 64 MB).
  if (!word.includes("$")) return [word];
  const words: string[] = [];
  let current = "";
  // Set by anything that makes even an empty word worth keeping (literal text, `$NAME`).
  let keepEmpty = false;
  // Set when a `$/NAME` split touched the current word, which may then vanish if empty.
  let splitTouched = false;

  const finishWord = (): void => {
    words.push(current);
    current = "";
    keepEmpty = false;
    splitTouched = false;
  };

  for (const seg of scan(word, options.strict)) {
    if (seg.kind === "literal") {
      current += seg.text;
      keepEmpty = true;
      continue;
    }
    if (seg.kind === "dollar") {
      current += options.keepDollars ? "$$" : "$";
      keepEmpty = true;
      continue;
    }
    const resolved = resolve(seg.name);
    if (resolved === KEEP) {
      current += seg.source;
      keepEmpty = true;
      continue;
    }
    if (resolved === MISSING_ARGUMENT && seg.mode === undefined) {
      throw new MissingArgumentError(
        `"${seg.source}" needs a service argument: start the service as NAME@ARGUMENT`,
      );
    }
    const value = applyMode(seg, resolved === MISSING_ARGUMENT ? undefined : resolved) ?? "";
    if (!(seg.split && options.splitWords)) {
      current += value;
      keepEmpty = true;
      continue;
    }
    // Word splitting: leading whitespace ends the word so far, inner whitespace separates
    // words, trailing whitespace ends the last piece.
    const pieces = value.split(/\s+/).filter((p) => p !== "");
    const leading = /^\s/.test(value);
    const trailing = /\s$/.test(value);
    if (leading && (current !== "" || keepEmpty)) finishWord();
    pieces.forEach((piece, n) => {
      if (n > 0) finishWord();
      current += piece;
    });
    splitTouched = true;
    if (trailing && pieces.length > 0) {
      finishWord();
      splitTouched = true;
    }
  }
  if (!(current === "" && splitTouched && !keepEmpty)) words.push(current);
  return words;
}

/** Variables visible to a substitution: a process environment or a plain record. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * A variable's value, looked up as an own property only: `$constructor` or `${__proto__}` must
 * be unset variables, not Object.prototype's members, whatever object `env` is.
 */
function lookup(env: Environment, name: string): string | undefined {
  return Object.hasOwn(env, name) ? env[name] : undefined;
}

/**
 * Substitute `$VAR` references in a command's argv at start time, with `env` (the environment
 * the service process gets). `$/VAR` splits into several arguments; `$$` becomes `$`. Never
 * throws: the parser has already rejected malformed references, and any that remain (a command
 * added at run time) stay as written.
 */
export function substituteVars(argv: readonly string[], env: Environment): string[] {
  const resolve: Resolver = (name) => lookup(env, name);
  return argv.flatMap((word) =>
    expandWord(word, resolve, { splitWords: true, keepDollars: false, strict: false }),
  );
}

/**
 * Substitute `$VAR` references in a single value (a path such as working-dir, logfile, pid-file,
 * socket-listen or env-file) at start time. There is no word splitting.
 */
export function substituteValue(value: string, env: Environment): string {
  const resolve: Resolver = (name) => lookup(env, name);
  return expandWord(value, resolve, { splitWords: false, keepDollars: false, strict: false }).join("");
}

/** Whether `value` uses the service argument (`$1`, `${1}`, `${1:-x}`, `$/1` ...). */
export function referencesArgument(value: string): boolean {
  return value.includes("$") && scan(value, false).some((seg) => seg.kind === "reference" && seg.name === "1");
}

/** Throw SubstitutionError if `value` has a malformed `$` reference. */
export function checkReferences(value: string): void {
  scan(value, true);
}

/**
 * Load-time step for commands and paths: replace `$1` with the service argument and keep every
 * other reference (and `$$`) as written for start time. A `$` in the argument is doubled so the
 * later substitution leaves it alone. Throws SubstitutionError on a malformed reference, or on
 * `$1` when `argument` is undefined.
 */
export function substituteArgument(
  words: readonly string[],
  argument: string | undefined,
  options: { splitWords: boolean },
): string[] {
  // Escaped once, not for each `$1`: the words that are just `$1` then share one string.
  const escaped = argument?.replaceAll("$", () => "$$");
  const resolve: Resolver = (name) => (name === "1" ? (escaped ?? MISSING_ARGUMENT) : KEEP);
  // The common case in one array (30,000 words for each of 280 instances, grown a word at a time, were 60 MB more).
  if (!words.some((word) => word.includes("$"))) return [...words];
  const out: string[] = [];
  for (const word of words) {
    // Most words need no scan: what a template's 1000 instances each do for every word of it
    // is kept to one string at most, so that the collector has little to catch up with.
    const plain = escaped === undefined ? undefined : withPlainArgument(word, escaped);
    if (plain !== undefined) out.push(plain);
    else out.push(...expandWord(word, resolve, { splitWords: options.splitWords, keepDollars: true, strict: true }));
  }
  return out;
}

/**
 * `word` with each plain `$1` and `${1}` replaced by `value` and `$$` kept as it is: what
 * expandWord gives for such a word, for substituteArgument. The word itself when it has no `$`,
 * `value` itself for a word that is just `$1`; undefined when it has any other `$` form.
 */
function withPlainArgument(word: string, value: string): string | undefined {
  // Not `"" + value`: Bun makes that a new string of two pieces, kept for each word.
  if (word === "$1" || word === "${1}") return value;
  let out = "";
  let from = 0;
  let at = word.indexOf("$");
  while (at >= 0) {
    if (word[at + 1] === "$") {
      at = word.indexOf("$", at + 2);
      continue;
    }
    let length: number;
    if (word[at + 1] === "1" && !DIGIT.test(word[at + 2] ?? "")) length = 2;
    else if (word.startsWith("{1}", at + 1)) length = 4;
    else return undefined;
    out += word.slice(from, at) + value;
    from = at + length;
    at = word.indexOf("$", from);
  }
  return from === 0 ? word : out + word.slice(from);
}

/**
 * Load-time substitution for values that loading itself needs (dependency names, `.d`
 * directories, chain-to): `$1` and every `$VAR` from `env` are replaced now, as dinit does.
 * Throws SubstitutionError like substituteArgument.
 */
export function substituteNow(value: string, argument: string | undefined, env: Environment): string {
  const resolve: Resolver = (name) =>
    name === "1" ? (argument === undefined ? MISSING_ARGUMENT : argument) : lookup(env, name);
  return expandWord(value, resolve, { splitWords: false, keepDollars: false, strict: true }).join("");
}
