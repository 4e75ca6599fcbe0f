// `podman events --format json` as an async stream of container events: the monitor's source of
// truth for starts, deaths and restarts. `since` replays from a time (podman keeps an event log),
// so nothing between two watches is lost.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { PodmanError, podmanReason } from "./errors.js";

export interface ContainerEvent {
  containerId: string;
  containerName: string;
  /** podman's event: create, init, start, died, stop, restart, cleanup, remove, … */
  status: string;
  /** With died. */
  exitCode?: number;
  image: string;
  time: Date;
  /** The container's labels (podman's event attributes). */
  labels: Record<string, string>;
}

export interface WatchOptions {
  /** Replay events from this time on (default: only new ones). */
  since?: Date;
  /** Only containers carrying these labels. */
  labels?: Record<string, string>;
  /** Only these event kinds (e.g. ["start", "died"]). */
  events?: string[];
}

export class ContainerEventStream implements AsyncIterable<ContainerEvent> {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #stderr = "";
  #closed = false;

  constructor(binary: string, options: WatchOptions = {}) {
    const args = ["events", "--format", "json", "--filter", "type=container"];
    if (options.since) args.push("--since", options.since.toISOString());
    for (const [key, value] of Object.entries(options.labels ?? {}))
      args.push("--filter", `label=${key}=${value}`);
    for (const event of options.events ?? []) args.push("--filter", `event=${event}`);
    this.#child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child.stderr!.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString("utf8")).slice(-4096);
    });
    this.#exited = new Promise((resolve) => {
      this.#child.once("error", (err) => {
        this.#stderr += `\nError: cannot run ${binary}: ${err.message}`;
        resolve(-1);
      });
      this.#child.once("close", (code) => resolve(code));
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ContainerEvent> {
    const lines = createInterface({ input: this.#child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      const event = parseEvent(line);
      if (event) yield event;
    }
    const code = await this.#exited;
    if (!this.#closed && code !== 0) {
      throw new PodmanError("FAILED", "events", `podman events: ${podmanReason(this.#stderr)}`);
    }
  }

  /** Stops the stream; the iterator ends. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#child.kill("SIGTERM");
    await this.#exited;
  }
}

interface EventJson {
  ID?: string;
  Name?: string;
  Status?: string;
  Type?: string;
  Image?: string;
  ContainerExitCode?: number;
  Time?: string;
  time?: number;
  timeNano?: number;
  Attributes?: Record<string, string> | null;
}

/** One line of podman's output (4.x writes Time as RFC 3339; 5.x adds unix time fields). */
export function parseEvent(line: string): ContainerEvent | undefined {
  let raw: EventJson;
  try {
    raw = JSON.parse(line) as EventJson;
  } catch {
    return undefined;
  }
  if (raw.Type !== undefined && raw.Type !== "container") return undefined;
  const time =
    raw.timeNano !== undefined
      ? new Date(raw.timeNano / 1e6)
      : raw.Time
        ? new Date(raw.Time)
        : new Date((raw.time ?? 0) * 1000);
  const { image: _image, name: _name, podId: _podId, ...labels } = raw.Attributes ?? {};
  return {
    containerId: raw.ID ?? "",
    containerName: raw.Name ?? "",
    status: raw.Status ?? "",
    exitCode: raw.ContainerExitCode,
    image: raw.Image ?? "",
    time,
    labels,
  };
}
