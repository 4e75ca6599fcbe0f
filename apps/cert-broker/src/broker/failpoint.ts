// Crash points for the crash-safety tests: with CERT_BROKER_FAILPOINT=<name> the process kills itself
// (SIGKILL, as a power cut would) when it reaches that point of an issuance. Unset, this does nothing.
export type FailpointName = "after-key" | "after-row" | "mid-publish";

export function failpoint(name: FailpointName): void {
  if (process.env.CERT_BROKER_FAILPOINT === name) process.kill(process.pid, "SIGKILL");
}
