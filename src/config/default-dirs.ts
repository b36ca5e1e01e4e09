// Where services are described when no directory is named: PID 1's /etc/tsinit.d, and for a
// user's supervisor dinit's user default, $XDG_CONFIG_HOME/tsinit.d, falling back to
// ~/.config/tsinit.d. Pure: the caller passes its uid and environment.

/** PID 1's services directory. */
export const SYSTEM_SERVICES_DIR = "/etc/tsinit.d";

/** The default services directory for `uid`; undefined when a non-root user has no HOME either. */
export function defaultServicesDir(uid: number, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (uid === 0) return SYSTEM_SERVICES_DIR;
  const config = env.XDG_CONFIG_HOME;
  // The XDG base directory spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  if (config !== undefined && config.startsWith("/")) return `${config.replace(/\/+$/, "")}/tsinit.d`;
  const home = env.HOME;
  if (home === undefined || !home.startsWith("/")) return undefined;
  return `${home.replace(/\/+$/, "")}/.config/tsinit.d`;
}
