import { userInfo } from "node:os";

/** Who manages the records and routes an operator makes: --owner, else the local user name. */
export function defaultOwner(): string {
  return userInfo().username;
}
