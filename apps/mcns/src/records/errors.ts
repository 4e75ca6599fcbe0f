/** Why a record change was refused; the API maps `code` to a Connect code, the importer prints it. */
export type RecordErrorCode = "invalid" | "not_found" | "conflict" | "not_owner" | "unserved";

export class RecordError extends Error {
  constructor(
    readonly code: RecordErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RecordError";
  }
}
