// The rule for a variable name that setenv puts into the activation environment (the control
// API and initctl): a letter or `_`, then letters, digits and `_`, as a shell can name it and
// as an env-file line must (src/config/env-file.ts), at most 256 characters. A name with a
// space or a `-` could not be read back as `$NAME` in a service's command, and one with `=`
// would split wrongly in exec's `NAME=value` strings. Pure.

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/** Whether `name` is a variable name (at most 256 characters). */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/** Why `name` is not a variable name setenv takes, or undefined when it is one. */
export function envNameProblem(name: string): string | undefined {
  if (isEnvName(name)) return undefined;
  return `${JSON.stringify(name.slice(0, 40))} is not a variable name: use a letter or _, then letters, digits and _ (up to 256 characters)`;
}
