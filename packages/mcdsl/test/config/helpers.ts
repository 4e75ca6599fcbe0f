import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import * as z from "zod";
import { ConfigError, listenAddress, section } from "../../src/config/index.js";

/** A config schema shaped like a real app's (MCNS). */
export const schema = z.object({
  server: section({
    listen_addr: listenAddress("api", { main: true }).default("127.0.0.1:8080"),
    tls: z.boolean().default(false),
  }),
  dns: section({
    listen: listenAddress("dns").default("0.0.0.0:5353"),
    port: z.int().min(1).max(65535).default(53),
    forwarders: z.array(z.string()).default([]),
    recursive: z.boolean().default(false),
  }),
  database: z.object({ path: z.string() }),
  zones: z.array(z.object({ name: z.string(), ttl: z.int().min(1).default(300) })).default([]),
  log: section({ level: z.enum(["debug", "info", "warn", "error"]).default("info") }),
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mcdsl-config-"));
  dirs.push(dir);
  return dir;
}

/** Writes a file in a fresh temporary directory and returns its path. */
export function writeTemp(name: string, text: string): string {
  const file = join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

/** Runs `load` and returns the ConfigError it throws (failing the test when it does not). */
export function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError, but loading succeeded");
}
