// The one rule for a service name that a client hands over (the control API, and initctl
// --offline enable/disable): what a service file could be called, instances included, and never
// a path. A name that passes cannot leave the services directory it is joined to. Pure.

const SERVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,63}$/;

/** Why `name` is not a service name, or undefined when it is one. */
export function serviceNameProblem(name: string): string | undefined {
  return SERVICE_NAME.test(name) ? undefined : `invalid service name ${JSON.stringify(name.slice(0, 80))}: use up to 64 letters, digits and _.@+- (not first)`;
}
