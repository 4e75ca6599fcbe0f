import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { Code, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { codeFromString } from "@connectrpc/connect/protocol-connect";

/** What a Connect handler answered, decoded: the response message, or its error as Connect's JSON. */
export type InvokeResult =
  | { ok: true; message: MessageShape<DescMessage>; header: Headers }
  | {
      ok: false;
      code: Code;
      error: { code: string; message?: string; details?: unknown[] };
      header: Headers;
    };

// Headers that describe the HTTP exchange or a protocol, not the call: never forwarded to the handler.
const dropRequestHeaders =
  /^(:|host$|content-|accept-encoding$|connect-|grpc-|te$|connection$|keep-alive$|transfer-encoding$|upgrade$|http2-settings$)/;

/**
 * Calls a unary RPC through its registered Connect handler, as a Connect-protocol binary request made in
 * process: the router's interceptors (auth, metrics, logging) and limits apply exactly as for a network
 * call, and there is no second implementation of anything.
 */
export async function invokeUnary(
  handler: UniversalHandler,
  input: MessageShape<DescMessage>,
  incoming: Headers,
  contextValues: ContextValues,
  signal: AbortSignal,
): Promise<InvokeResult> {
  const method = handler.method;
  const header = new Headers();
  incoming.forEach((value, name) => {
    if (!dropRequestHeaders.test(name)) header.append(name, value);
  });
  header.set("content-type", "application/proto");
  header.set("connect-protocol-version", "1");
  const res = await handler({
    httpVersion: "1.1",
    method: "POST",
    url: `http://rest.invalid${handler.requestPath}`,
    header,
    body: (async function* () {
      yield toBinary(method.input, input);
    })(),
    signal,
    contextValues,
  });
  const bytes = res.body ? await collect(res.body) : new Uint8Array(0);
  const resHeader = res.header ?? new Headers();
  if (res.status === 200) {
    return { ok: true, message: fromBinary(method.output, bytes), header: resHeader };
  }
  // Connect unary errors are a JSON body {code, message, details}.
  let error: { code: string; message?: string; details?: unknown[] };
  try {
    error = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    error = { code: "internal", message: `handler answered HTTP ${res.status} without an error body` };
  }
  return { ok: false, code: codeFromString(error.code) ?? Code.Internal, error, header: resHeader };
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
