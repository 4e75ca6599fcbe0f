// Crash points for the crash-safety tests: with CERT_BROKER_FAILPOINT=<name> the process kills itself
// (SIGKILL, as a power cut would) when it reaches that point of an issuance or revocation. Unset, this does nothing.
export type FailpointName =
  /** Inside an atomic file write, after the data is written, before the rename. */
  | "mid-write"
  /** After the key file, before the database row. */
  | "after-key"
  /** After the row, before the published files. */
  | "after-row"
  /** After the first hostname's files, before the others'. */
  | "mid-publish"
  /** After a revocation's row, before its published files and key are removed. */
  | "after-revoke-row";

export function failpoint(name: FailpointName): void {
  if (process.env.CERT_BROKER_FAILPOINT === name) process.kill(process.pid, "SIGKILL");
}
