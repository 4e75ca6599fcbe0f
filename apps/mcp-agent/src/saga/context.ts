// What a saga needs: the registry, podman, the port allocator, the three peers, the event outbox,
// and the node's settings. One object built by main.ts and shared by deploy, stop, recovery and plan.
import type { EventOutbox } from "@mcp/mcdsl/events";
import type { Logger } from "@mcp/mcdsl/log";
import type { Peers } from "../clients/peers.js";
import type { PortAllocator } from "../ports/allocator.js";
import type { ContainerDefaults } from "../runtime/container-spec.js";
import type { Podman } from "../runtime/podman.js";
import type { Registry } from "../store/registry.js";

export interface SagaDeps {
  registry: Registry;
  podman: Podman;
  allocator: PortAllocator;
  peers: Peers;
  /** Deploy events: recorded in the registry with the change they report, published after it. */
  outbox: EventOutbox;
  logger: Logger;
  node: {
    name: string;
    /** The address DNS records point at. */
    address: string;
  };
  containerDefaults: ContainerDefaults;
  /** Seconds between SIGTERM and SIGKILL when old containers stop. */
  stopTimeoutS: number;
  recordTtl: number;
  /** The drain window given to mc-proxy when a route switches backends (ms). */
  drainMs: number;
  /** Where the platform's root CA is written (TLS_CA_FILE of L4 containers). */
  caFile: string;
}

/** A step's failure with the Connect-ish code the API reports ("DEADLINE_EXCEEDED", …). */
export class StepError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "StepError";
    this.code = code;
  }
}
