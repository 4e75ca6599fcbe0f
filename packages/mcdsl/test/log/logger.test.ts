import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, withRequestId } from "../../src/log/index.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

describe("createLogger", () => {
  it("writes JSON lines with app, node, level label and ISO time", () => {
    const { lines, stream } = capture();
    const log = createLogger({ app: "mcns", node: "rift", destination: stream });
    log.info({ zone: "svc" }, "started");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ app: "mcns", node: "rift", level: "info", zone: "svc", msg: "started" });
    expect(new Date(lines[0]!.time as string).toISOString()).toBe(lines[0]!.time);
  });

  it("redacts bearer headers, tokens, keys and passwords at any of the first three levels", () => {
    const { lines, stream } = capture();
    const log = createLogger({ app: "a", destination: stream });
    log.info(
      {
        headers: { authorization: "Bearer s3cret", "set-cookie": "sid=1", host: "example" },
        token: "t0ken-value",
        user: { name: "kyle", password: "hunter2" },
        tls: { cert: { privateKey: "-----BEGIN", key: "k" } },
      },
      "request",
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ["s3cret", "sid=1", "t0ken-value", "hunter2", "-----BEGIN", '"k"']) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      headers: { authorization: "[redacted]", host: "example" },
      user: { name: "kyle", password: "[redacted]" },
    });
  });

  it("binds a request id in child loggers and honours the level", () => {
    const { lines, stream } = capture();
    const log = createLogger({ app: "a", level: "warn", destination: stream });
    const child = withRequestId(log, "req-1");
    child.info("dropped");
    child.warn("kept");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ requestId: "req-1", msg: "kept", app: "a" });
  });

  it("refuses an unknown level by name", () => {
    expect(() => createLogger({ app: "a", level: "verbose" })).toThrow(/"verbose" is not one of fatal/);
  });

  it("writes to a file path", () => {
    const dir = mkdtempSync(join(tmpdir(), "mcdsl-log-"));
    const file = join(dir, "sub", "app.log");
    const log = createLogger({ app: "a", destination: file });
    log.info("to file");
    const line = JSON.parse(readFileSync(file, "utf8").trim());
    expect(line).toMatchObject({ app: "a", msg: "to file" });
  });
});
