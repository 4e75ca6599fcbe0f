// The broker's errors as values with codes; the API layer maps each code to a Connect code.
export type BrokerErrorCode =
  | "invalid-argument"
  | "permission-denied"
  | "not-found"
  | "failed-precondition"
  | "unavailable";

export class BrokerError extends Error {
  override name = "BrokerError";

  constructor(
    readonly code: BrokerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
