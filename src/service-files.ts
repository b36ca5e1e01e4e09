// The service directories as the control socket and `initctl --offline` change them: one
// service's description read again (`reload NAME`, a service named by enable that is not loaded
// yet), and the waits-for.d links of enable and disable made or taken away, through Sys.
import { dirname, relativePath, resolvePath } from "./base/paths.ts";
import { formatDiagnostic, hasErrors } from "./config/diagnostic.ts";
import { planLink, type EnableFs, type LinkPlan } from "./config/enable.ts";
import { defaultSpec } from "./base/service-spec.ts";
import { BOOT_SERVICE, joinPath, loadService } from "./config/load.ts";
import type { LinkAnswer, LoadAnswer, ServiceFiles } from "./control/verbs.ts";
import { readServiceFile } from "./service-loading.ts";
import type { Sys } from "./sys/sys.ts";

export function enableFs(sys: Sys): EnableFs {
  return {
    readFile: (path) => readServiceFile(sys, path),
    readDir: (path) => sys.readDir(path),
    entryExists: (path) => sys.readlink(path) !== undefined || sys.exists(path),
  };
}

/** Carries out a link plan: enable makes the link (and a missing directory), disable removes it. */
export function applyLinkPlan(sys: Sys, verb: "enable" | "disable", plan: LinkPlan): LinkAnswer {
  if (verb === "enable") {
    if (plan.exists) return { ok: true, from: plan.from, path: plan.path, changed: false };
    if (plan.createDir) {
      const made = sys.mkdir(plan.dir, 0o755);
      if (made !== undefined) return { ok: false, message: `cannot make ${plan.dir}: ${made.message}` };
    }
    // Relative to the link's own directory, so the tree still holds together when it is
    // copied elsewhere (an image built with initctl --offline).
    const linked = sys.symlink(relativePath(dirname(resolvePath(process.cwd(), plan.path)), resolvePath(process.cwd(), plan.target)), plan.path);
    if (linked !== undefined) return { ok: false, message: `cannot make the link ${plan.path}: ${linked.message}` };
    return { ok: true, from: plan.from, path: plan.path, changed: true };
  }
  const noFile = plan.noFile === undefined ? {} : { noFile: plan.noFile };
  if (!plan.exists) return { ok: true, from: plan.from, path: plan.path, changed: false, ...noFile };
  const removed = sys.unlink(plan.path);
  if (removed !== undefined) return { ok: false, message: `cannot remove ${plan.path}: ${removed.message}` };
  return { ok: true, from: plan.from, path: plan.path, changed: true, ...noFile };
}

export function linkService(sys: Sys, dirs: readonly string[], verb: "enable" | "disable", to: string, from: string | undefined): LinkAnswer {
  const planned = planLink(verb, to, from, dirs, enableFs(sys));
  return planned.ok ? applyLinkPlan(sys, verb, planned.plan) : planned;
}

/** The control socket's view of the services directories. */
export function serviceFiles(sys: Sys, dirs: () => readonly string[]): ServiceFiles {
  return {
    load(name: string): LoadAnswer {
      const fs = enableFs(sys);
      const loaded = loadService(name, dirs(), fs);
      const { diagnostics } = loaded;
      let { spec, found } = loaded;
      if (name === BOOT_SERVICE) {
        // boot's waits-for include boot.d/ entries, and boot.d/ alone makes an internal boot,
        // as when all the directories are loaded.
        const bootDirs = dirs().map((dir) => joinPath(dir, `${BOOT_SERVICE}.d`)).filter((path) => sys.readDir(path) !== undefined);
        if (!found && bootDirs.length > 0) {
          spec = defaultSpec(BOOT_SERVICE, "internal", bootDirs[0]);
          found = true;
        }
        if (spec !== undefined) {
          const entries = bootDirs.flatMap((path) => (sys.readDir(path) ?? []).filter((entry) => !entry.startsWith(".")).sort());
          spec.waitsFor = [...new Set([...spec.waitsFor, ...entries.filter((entry) => entry !== BOOT_SERVICE)])];
        }
      }
      if (!found) return { ok: false, message: `no service named ${name} in ${dirs().join(", ")}` };
      if (spec === undefined || hasErrors(diagnostics)) {
        const errors = diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
        return { ok: false, message: errors.length > 0 ? errors.join("; ") : `${name}: a template (it uses $1); name an instance such as ${name}@ARG` };
      }
      return { ok: true, spec, warnings: diagnostics.map(formatDiagnostic) };
    },
    link: (verb, to, from) => linkService(sys, dirs(), verb, to, from),
  };
}
