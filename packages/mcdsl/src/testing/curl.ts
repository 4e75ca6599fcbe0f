import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface CurlResult {
  status: number;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

/**
 * Runs the real `curl -sS <args…>` and returns the HTTP status and body, so tests call REST routes
 * exactly as the README tells users to. Non-2xx statuses are results, not errors.
 */
export async function curl(...args: string[]): Promise<CurlResult> {
  const { stdout } = await run("curl", ["-sS", "-w", "\n%{http_code}", ...args], { maxBuffer: 64 << 20 });
  const cut = stdout.lastIndexOf("\n");
  const body = stdout.slice(0, cut);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: Number(stdout.slice(cut + 1)), body, json };
}
