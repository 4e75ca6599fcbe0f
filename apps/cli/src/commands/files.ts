// `mcp push <service> <file> [path]` and `mcp pull <service> <path> [file]`: a file into or out of
// a service's data directory on its node (the agent's `[files] root`/<service>/, mounted into the
// service's containers as the definition says). Streamed in 64 KiB chunks; the SHA-256 is checked
// at the far end of each transfer, so a file changed or cut on the way is refused, not kept.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, renameSync, rmSync, statSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  AgentService,
  type FileHeader,
  FileHeaderSchema,
  type PullFileResponse,
  type PushFileRequest,
  PushFileRequestSchema,
} from "@mcp/proto/mcp/agent/v1/service_pb.js";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { CliError, UsageError } from "../errors.js";

const CHUNK = 64 * 1024;

/** Registers `push` and `pull`. */
export function registerFiles(program: Command): void {
  program
    .command("push <service> <file> [path]")
    .description("copy a file into a service's directory on its node (path: default the file's name)")
    .option("--mode <octal>", "permission bits on the node, e.g. 600 (default: the local file's)")
    .action(
      async (
        service: string,
        file: string,
        path: string | undefined,
        options: { mode?: string },
        command: Command,
      ) => {
        const context = contextOf(command);
        const local = localFile(file);
        const mode = options.mode === undefined ? local.mode : parseMode(options.mode);
        // A path ending in "/" names a directory: the file keeps its name in it.
        const target =
          path === undefined ? basename(file) : path.endsWith("/") ? `${path}${basename(file)}` : path;
        const sha256 = await hashFile(file);
        const agent = context.client(AgentService, "agent", undefined, { streaming: true });
        const pushed = await agent.pushFile(
          messages(
            file,
            create(FileHeaderSchema, { service, path: target, mode, size: BigInt(local.size), sha256 }),
          ),
        );
        context.print(
          `pushed ${file} to ${service}:${target} (${pushed.path}, ${pushed.size} bytes, mode ${mode.toString(8)}, sha256 ${pushed.sha256})`,
          {
            service,
            path: target,
            nodePath: pushed.path,
            size: Number(pushed.size),
            mode,
            sha256: pushed.sha256,
          },
        );
      },
    );

  program
    .command("pull <service> <path> [file]")
    .description(
      "copy a file out of a service's directory on its node (file: default the name, - for stdout)",
    )
    .option("--force", "replace a local file that exists")
    .action(
      async (
        service: string,
        path: string,
        file: string | undefined,
        options: { force?: boolean },
        command: Command,
      ) => {
        const context = contextOf(command);
        let out = file ?? basename(path);
        const toStdout = out === "-";
        // Onto a directory: into it, under the file's name (as cp does).
        if (!toStdout && isDirectory(out)) out = join(out, basename(path));
        if (!toStdout && existsSync(out) && !options.force) {
          throw new CliError(`${out} exists: give --force to replace it, or another file name`);
        }
        // The local side first: a folder that is missing or not writable is named before any call.
        const sink = toStdout ? undefined : await openSink(out);
        const agent = context.client(AgentService, "agent");
        const pulled = await receive(agent.pullFile({ service, path }), sink);
        if (toStdout) return;
        context.print(
          `pulled ${service}:${path} to ${out} (${pulled.size} bytes, mode ${pulled.mode.toString(8)}, sha256 ${pulled.sha256})`,
          { service, path, file: out, size: pulled.size, mode: pulled.mode, sha256: pulled.sha256 },
        );
      },
    );
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Where a pull lands: a temporary file beside `file`, renamed over it once the bytes check out. */
interface Sink {
  file: string;
  temp: string;
  handle: FileHandle;
}

async function openSink(file: string): Promise<Sink> {
  const temp = join(dirname(file), `.${basename(file)}.mcp-pull-${process.pid}`);
  try {
    return { file, temp, handle: await open(temp, "wx", 0o600) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new CliError(`${dirname(file)}: no such directory`);
    if (code === "EACCES") throw new CliError(`${dirname(file)}: cannot write there (permission denied)`);
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
}

function localFile(file: string): { size: number; mode: number } {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(file);
  } catch {
    throw new CliError(`${file}: no such file`);
  }
  if (!stat.isFile()) throw new CliError(`${file}: not a regular file`);
  return { size: stat.size, mode: stat.mode & 0o777 };
}

function parseMode(text: string): number {
  if (!/^0?o?[0-7]{3,4}$/.test(text))
    throw new UsageError(`--mode ${text}: expected octal permission bits such as 600 or 0644`);
  const mode = Number.parseInt(text.replace(/^0?o?/, ""), 8);
  if (mode > 0o777) throw new UsageError(`--mode ${text}: only permission bits (up to 777) can be set`);
  if (mode === 0) {
    throw new UsageError(
      `--mode ${text}: 0 means the node's default (644); give the bits you want, e.g. 600`,
    );
  }
  return mode;
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The header, then the file in chunks of at most 64 KiB. */
async function* messages(file: string, header: FileHeader): AsyncGenerator<PushFileRequest> {
  yield create(PushFileRequestSchema, { content: { case: "header", value: header } });
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
    yield create(PushFileRequestSchema, { content: { case: "chunk", value: chunk as Buffer } });
  }
}

interface Pulled {
  size: number;
  mode: number;
  sha256: string;
}

/**
 * Writes the pulled bytes to the sink (renamed over its file once the size and SHA-256 match, so a
 * cut transfer leaves nothing half-written), or to stdout.
 */
async function receive(stream: AsyncIterable<PullFileResponse>, sink: Sink | undefined): Promise<Pulled> {
  const hash = createHash("sha256");
  let header: { size: number; mode: number; sha256: string } | undefined;
  let received = 0;
  try {
    for await (const message of stream) {
      if (message.content.case === "header") {
        const h = message.content.value;
        header = { size: Number(h.size), mode: h.mode, sha256: h.sha256 };
      } else if (message.content.case === "chunk") {
        const chunk = message.content.value;
        hash.update(chunk);
        received += chunk.length;
        if (sink) await sink.handle.write(chunk);
        else if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once("drain", r));
      }
    }
    if (!header) throw new CliError("the agent sent no file header");
    const sha256 = hash.digest("hex");
    if (received !== header.size || sha256 !== header.sha256) {
      throw new CliError(
        `the file changed or was cut on the way: ${received} of ${header.size} bytes, sha256 ${sha256} (the node has ${header.sha256}); nothing was written`,
      );
    }
    if (sink) {
      await sink.handle.chmod(header.mode & 0o777);
      await sink.handle.close();
      renameSync(sink.temp, sink.file);
    }
    return { ...header, sha256 };
  } catch (error) {
    if (sink) {
      await sink.handle.close().catch(() => {});
      rmSync(sink.temp, { force: true });
    }
    throw error;
  }
}
