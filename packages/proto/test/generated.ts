// Loads every generated *_pb.ts under src/gen and returns the services they describe, so the checks
// cover a new proto file as soon as it is generated, without a list to keep up to date.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DescFile, DescService } from "@bufbuild/protobuf";

const genDir = fileURLToPath(new URL("../src/gen", import.meta.url));

function isDescFile(value: unknown): value is DescFile {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "file";
}

/** The generated files that declare at least one service, by proto file name. */
export async function generatedServiceFiles(): Promise<Map<string, DescService[]>> {
  const files = new Map<string, DescService[]>();
  const modules = readdirSync(genDir, { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith("_pb.ts"),
  );
  for (const module of modules.sort()) {
    const exports: Record<string, unknown> = await import(pathToFileURL(join(genDir, module)).href);
    for (const value of Object.values(exports)) {
      if (isDescFile(value) && value.services.length > 0) files.set(value.proto.name, value.services);
    }
  }
  return files;
}
