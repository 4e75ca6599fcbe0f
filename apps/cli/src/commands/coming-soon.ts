/**
 * Commands that are planned but not built yet. They are listed in the help text, not
 * registered: a command that exists only to fail would look like a broken feature.
 */
export const COMING_SOON: readonly (readonly [string, string])[] = [
  ["deploy <service>", "deploy a service from its definition (ports, certificates, DNS, routes)"],
  ["plan <service>", "show what a deploy would change, changing nothing"],
  ["stop <service>", "stop a service and remove its routes and records"],
  ["start <service>", "start a stopped service"],
  ["restart <service>", "restart a service's containers"],
  ["status [service]", "desired and observed state of services"],
  ["ps", "the containers running on a node"],
  ["list", "the services a node knows"],
  ["sync", "push every service definition to its node"],
  ["adopt <service>", "take over containers started outside mcp"],
  ["push <service> <file>", "copy a file into a service's directory on its node"],
  ["pull <service> <file>", "copy a file out of a service's directory"],
  ["events [-f]", "show (and follow) platform events"],
  ["service export <service>", "print a running service's definition as TOML"],
];

/** The help text section that lists them. */
export function comingSoonHelp(): string {
  const width = Math.max(...COMING_SOON.map(([usage]) => usage.length));
  const lines = COMING_SOON.map(([usage, description]) => `  ${usage.padEnd(width)}  ${description}`);
  return `\nComing soon (not available yet):\n${lines.join("\n")}\n`;
}

/** True when an unknown command is one of the planned ones. */
export function isComingSoon(name: string): boolean {
  return COMING_SOON.some(([usage]) => usage.split(" ")[0] === name);
}
