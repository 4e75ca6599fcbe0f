import type { Interceptor } from "@connectrpc/connect";

/** The client side of bearer auth: sends `authorization: Bearer <token>` on every call. */
export function bearerTokenInterceptor(token: string): Interceptor {
  const value = `Bearer ${token}`;
  return (next) => (req) => {
    req.header.set("authorization", value);
    return next(req);
  };
}
