export { bearerTokenInterceptor } from "./client.js";
export { type Authenticator, getIdentity, type Identity, identityKey } from "./identity.js";
export { type AuthOptions, bearerToken, createAuthInterceptor } from "./interceptor.js";
export { createMciasAuthenticator, type MciasOptions } from "./mcias.js";
export {
  type Access,
  type AuthPolicy,
  accessFor,
  isReadOnly,
  procedureName,
  validatePolicy,
} from "./policy.js";
export { createStaticAuthenticator, loadStaticAuthenticator, readTokenFile } from "./static.js";
export { appendTokenEntry, formatTokenEntry, hashToken, mintToken, type TokenEntry } from "./tokens.js";
