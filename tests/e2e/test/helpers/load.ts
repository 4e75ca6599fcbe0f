// A steady stream of HTTPS requests through mc-proxy while something changes underneath (a redeploy,
// a backup): one loop opening a new TLS connection per request, one reusing a keep-alive
// connection. Every response is checked against the platform's root CA; every failure is kept with
// its reason, so a test can say "zero failed" and show what failed otherwise.
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";

export interface LoadResult {
  ok: number;
  failures: string[];
  /** The bodies' markers in the order they were seen (e.g. "v1", "v2"): what was served when. */
  seen: { at: number; marker: string }[];
}

export interface Load {
  /** Resolves after the first successful response, so the loops are known to be running. */
  started: Promise<void>;
  stop(): Promise<LoadResult>;
}

/** `marker(body)` names the version a response came from. */
export function startLoad(options: {
  host: string;
  port: number;
  caFile: string;
  path?: string;
  marker: (body: string) => string;
}): Load {
  const ca = readFileSync(options.caFile);
  const result: LoadResult = { ok: 0, failures: [], seen: [] };
  let running = true;
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });

  const once = (agent: Agent | false) =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: options.port,
          servername: options.host,
          headers: { host: `${options.host}:${options.port}` },
          path: options.path ?? "/",
          ca,
          agent,
          timeout: 10_000,
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            body += chunk;
          });
          res.on("end", () => {
            if (res.statusCode === 200) {
              result.ok += 1;
              const marker = options.marker(body);
              const last = result.seen.at(-1);
              if (last?.marker !== marker) result.seen.push({ at: Date.now(), marker });
              markStarted();
            } else {
              result.failures.push(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
            }
            resolve();
          });
          res.on("error", (error) => {
            result.failures.push(`response: ${error.message}`);
            resolve();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("no answer within 10 s")));
      req.on("error", (error) => {
        result.failures.push(`request: ${(error as NodeJS.ErrnoException).code ?? ""} ${error.message}`);
        resolve();
      });
      req.end();
    });

  const loop = async (agent: Agent | false) => {
    while (running) await once(agent);
  };
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  const loops = [loop(false), loop(keepAlive)];

  return {
    started,
    async stop() {
      running = false;
      await Promise.all(loops);
      keepAlive.destroy();
      return result;
    },
  };
}
