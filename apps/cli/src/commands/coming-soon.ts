/**
 * Commands that are planned but not built yet. They are listed in the help text, not
 * registered: a command that exists only to fail would look like a broken feature.
 */
export const COMING_SOON: readonly (readonly [string, string])[] = [
  ["sync", "push every service definition to its node"],
  ["adopt <service>", "take over containers started outside mcp"],
  ["push <service> <file>", "copy a file into a service's directory on its node"],
  ["pull <service> <file>", "copy a file out of a service's directory"],
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
