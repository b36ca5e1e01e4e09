// How much one template file may give (tsinit). A template may name instances of itself
// (`waits-for = t@${1}a` and `waits-for = t@${1}b`): each instance loaded names two more, so
// the names reached double at each step, and the 255-byte name limit ends that only after some
// 2^250 of them. So the instances of one template file are counted, with the services they name
// between them (a template with 40,000 such lines multiplies as fast with a few instances), and
// past either limit an instance is not read. Plain files are not counted: each is one service,
// and what they cost is what is on disk.
import type { ServiceSpec } from "../base/service-spec.ts";

export const TEMPLATE_LIMITS = {
  /** Instances of one template file. Real setups have a few (getty@tty1..6, a unit per disk). */
  instances: 1000,
  /**
   * Services named (dependencies, before, after, consumer-of) by the instances of one template
   * between them: ten for each of the most instances. Past it, what is left to try is at most
   * what one large plain file names.
   */
  names: 10_000,
  /**
   * Instances of all template files together: without it, fifty small templates that each name
   * two instances of themselves give fifty times the one template's limit.
   */
  totalInstances: 10_000,
} as const;

/** What a template's instances have cost so far. */
export interface TemplateUse {
  instances: number;
  names: number;
}

/** Whether `file` describes `name` as an instance of a template (`base` or `base@`), not as its own file. */
export function isTemplateFile(name: string, file: string): boolean {
  return name.includes("@") && !file.endsWith(`/${name}`) && file !== name;
}

/** The names a spec makes the loader reach (chain-to is not one: dinit loads it only when taken). */
export function referencedNames(spec: ServiceSpec): string[] {
  return [...spec.dependsOn, ...spec.dependsMs, ...spec.waitsFor, ...spec.before, ...spec.after, ...(spec.consumerOf === undefined ? [] : [spec.consumerOf])];
}

/**
 * What the instances a running supervisor has cost, by template file, kept up to date as
 * services come and go (add, remove), so that an on-demand load does not count every loaded
 * service again (20,000 loads one by one spent 11 s of 13.5 s doing that). `onStep` is called
 * once for each spec counted in or out (tests count the steps).
 */
export class TemplateTally {
  private readonly use = new Map<string, TemplateUse>();
  private instances = 0;

  constructor(private readonly onStep: () => void = () => {}) {}

  /** The tally of `specs` (a running supervisor's services). */
  static of(specs: Iterable<ServiceSpec>, onStep?: () => void): TemplateTally {
    const tally = new TemplateTally(onStep);
    for (const spec of specs) tally.add(spec);
    return tally;
  }

  add(spec: ServiceSpec): void {
    this.onStep();
    if (!isTemplateFile(spec.name, spec.file)) return;
    countInstance(this.use, spec.file, spec);
    this.instances += 1;
  }

  remove(spec: ServiceSpec): void {
    this.onStep();
    if (!isTemplateFile(spec.name, spec.file)) return;
    const entry = this.use.get(spec.file);
    if (entry === undefined) return;
    entry.instances -= 1;
    entry.names -= referencedNames(spec).length;
    this.instances -= 1;
    if (entry.instances <= 0) this.use.delete(spec.file);
  }

  get(templateFile: string): TemplateUse | undefined {
    return this.use.get(templateFile);
  }

  /** Instances of all template files together. */
  get total(): number {
    return this.instances;
  }
}

/** One more instance of `templateFile`, with the names it reaches (none when it did not parse). */
function countInstance(use: Map<string, TemplateUse>, templateFile: string, spec: ServiceSpec | undefined): void {
  const entry = use.get(templateFile) ?? { instances: 0, names: 0 };
  entry.instances += 1;
  if (spec !== undefined) entry.names += referencedNames(spec).length;
  use.set(templateFile, entry);
}

/**
 * The count for one load: what a running supervisor has (`known`) plus what this load read.
 * A template at a limit stays there for the rest of the load, so its file is not read again.
 */
export class TemplateBudget {
  private readonly used = new Map<string, TemplateUse>();
  private total = 0;

  constructor(private readonly known: ReadonlyMap<string, TemplateUse> | TemplateTally = new Map()) {
    if (known instanceof TemplateTally) this.total = known.total;
    else for (const use of known.values()) this.total += use.instances;
  }

  /** Why another instance of `templateFile` may not be read, or undefined if it may. */
  refusal(templateFile: string): string | undefined {
    if (this.total >= TEMPLATE_LIMITS.totalInstances) {
      return `${this.total} instances of templates are loaded in all (the limit is ${TEMPLATE_LIMITS.totalInstances})`;
    }
    const own = this.used.get(templateFile);
    const had = this.known.get(templateFile);
    const instances = (own?.instances ?? 0) + (had?.instances ?? 0);
    const names = (own?.names ?? 0) + (had?.names ?? 0);
    if (instances >= TEMPLATE_LIMITS.instances) {
      return `the template ${templateFile} has ${instances} instances loaded (the limit is ${TEMPLATE_LIMITS.instances})`;
    }
    if (names >= TEMPLATE_LIMITS.names) {
      return `the instances of the template ${templateFile} name ${names} services between them (the limit is ${TEMPLATE_LIMITS.names})`;
    }
    return undefined;
  }

  /** Count an instance read from `templateFile` (its spec, when it parsed). */
  add(templateFile: string, spec: ServiceSpec | undefined): void {
    countInstance(this.used, templateFile, spec);
    this.total += 1;
  }
}
