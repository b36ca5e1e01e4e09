// env-file: `NAME=value` lines, `#` comments and blank lines, as dinit reads them. The value
// is taken literally (no quotes, no substitution). Pure.

export type EnvFileResult = { ok: true; vars: Record<string, string> } | { ok: false; error: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseEnvFile(text: string, file: string): EnvFileResult {
  // Null prototype: a line `__proto__=x` is a variable like any other, not Object.prototype.
  const vars: Record<string, string> = Object.create(null);
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const equals = line.indexOf("=");
    const name = equals === -1 ? line : line.slice(0, equals).trim();
    if (equals === -1 || !NAME.test(name)) {
      return { ok: false, error: `${file}:${index + 1}: expected NAME=value, found ${JSON.stringify(line)}` };
    }
    vars[name] = line.slice(equals + 1);
  }
  return { ok: true, vars };
}
