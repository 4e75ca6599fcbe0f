// PushFile / PullFile over the service's data directory (files/): the first message is the
// header, then chunks. Protobuf stays here; path rules and writing are in files/.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type {
  PullFileRequest,
  PullFileResponse,
  PushFileRequest,
  PushFileResponse,
} from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { FilePathError, serviceDirectory, servicePath } from "../files/paths.js";
import { openForPull, TransferError, writeFileFromChunks } from "../files/transfer.js";

export interface FilesConfig {
  root: string;
  maxBytes: number;
  /** How long a push may send nothing before it is abandoned. */
  idleTimeoutMs: number;
}

const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export async function pushFile(
  config: FilesConfig,
  requests: AsyncIterable<PushFileRequest>,
): Promise<Omit<PushFileResponse, "$typeName" | "$unknown">> {
  const iterator = requests[Symbol.asyncIterator]();
  // Each message must come within the idle timeout: a client that stalls (after its header or
  // mid-file) is cut, and the temporary file goes with it.
  const next = () => nextWithin(iterator, config.idleTimeoutMs);
  const first = await next();
  if (first.done || first.value.content.case !== "header") {
    throw new ConnectError("the first PushFile message must carry the header", Code.InvalidArgument);
  }
  const header = first.value.content.value;
  const target = resolve(config, header.service, header.path);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const message = await next();
      if (message.done) return;
      if (message.value.content.case !== "chunk") {
        throw new ConnectError("only the first PushFile message may carry a header", Code.InvalidArgument);
      }
      yield message.value.content.value;
    }
  }
  try {
    const pushed = await writeFileFromChunks(
      serviceDirectory(config.root, header.service),
      target,
      { path: header.path, mode: header.mode, size: Number(header.size), sha256: header.sha256 || undefined },
      chunks(),
      config.maxBytes,
    );
    return { path: pushed.path, size: BigInt(pushed.size), sha256: pushed.sha256 };
  } catch (err) {
    throw toConnect(err);
  }
}

export async function* pullFile(config: FilesConfig, req: PullFileRequest): AsyncGenerator<PullFileResponse> {
  const path = resolve(config, req.service, req.path);
  let source: Awaited<ReturnType<typeof openForPull>>;
  try {
    source = await openForPull(serviceDirectory(config.root, req.service), path, req.path);
  } catch (err) {
    throw toConnect(err);
  }
  try {
    const { info } = source;
    yield {
      $typeName: "mcp.agent.v1.PullFileResponse",
      content: {
        case: "header",
        value: {
          $typeName: "mcp.agent.v1.FileHeader",
          service: req.service,
          path: req.path,
          mode: info.mode,
          size: BigInt(info.size),
          sha256: info.sha256,
          modifyTime: timestampFromDate(info.modifyTime),
        },
      },
    };
    for await (const chunk of source.chunks()) {
      yield { $typeName: "mcp.agent.v1.PullFileResponse", content: { case: "chunk", value: chunk } };
    }
  } catch (err) {
    throw toConnect(err);
  } finally {
    await source.close().catch(() => undefined);
  }
}

async function nextWithin<T>(iterator: AsyncIterator<T>, ms: number): Promise<IteratorResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ConnectError(
            `PushFile: nothing received for ${ms} ms; the push is abandoned`,
            Code.DeadlineExceeded,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([iterator.next(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

function resolve(config: FilesConfig, service: string, path: string): string {
  if (!SERVICE_NAME.test(service)) {
    throw new ConnectError(`service name ${JSON.stringify(service)} must be [a-z0-9-]`, Code.InvalidArgument);
  }
  try {
    return servicePath(config.root, service, path);
  } catch (err) {
    throw toConnect(err);
  }
}

function toConnect(err: unknown): unknown {
  if (err instanceof FilePathError) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof TransferError) {
    const code = {
      DATA_LOSS: Code.DataLoss,
      NOT_FOUND: Code.NotFound,
      RESOURCE_EXHAUSTED: Code.ResourceExhausted,
      INVALID_ARGUMENT: Code.InvalidArgument,
    }[err.code];
    return new ConnectError(err.message, code);
  }
  return err;
}
