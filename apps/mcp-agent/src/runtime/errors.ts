// Errors from podman as values: a code the callers branch on (and the API maps to Connect codes),
// the container or image concerned, and podman's own message.
export type PodmanErrorCode =
  /** No container of that name. */
  | "NOT_FOUND"
  /** The image is not present locally (and was not to be pulled). */
  | "IMAGE_NOT_FOUND"
  /** The registry refused or could not be reached; the message names the registry. */
  | "PULL_FAILED"
  /** podman did not answer in time. */
  | "TIMEOUT"
  /** The podman binary could not be run. */
  | "UNAVAILABLE"
  /** Anything else podman refused; the message is podman's. */
  | "FAILED";

export class PodmanError extends Error {
  readonly code: PodmanErrorCode;
  /** The container, image or network the command was about. */
  readonly target: string;
  /** podman's own message (its last "Error: …" line), without our prefix. */
  readonly podmanMessage: string;

  constructor(code: PodmanErrorCode, target: string, message: string, podmanMessage = message) {
    super(message);
    this.name = "PodmanError";
    this.code = code;
    this.target = target;
    this.podmanMessage = podmanMessage;
  }
}

/** podman's message from its stderr: the last "Error: …" line, else the last meaningful line. */
export function podmanReason(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    // podman on hosts without syslog prints this on every call; it is never the reason.
    .filter((l) => l !== "" && !l.startsWith("failed to connect to syslog"));
  const error = lines.filter((l) => l.startsWith("Error: ")).pop();
  if (error) return error.slice("Error: ".length);
  return lines.pop() ?? "no message";
}

/** The error code podman's message means. */
export function classify(reason: string): PodmanErrorCode {
  if (/no such container|no container with (name or )?id/i.test(reason)) return "NOT_FOUND";
  if (/image not known|no such image|unable to find image/i.test(reason)) return "IMAGE_NOT_FOUND";
  return "FAILED";
}
