// BodyFraming on its own: where a chunked body ends wherever its bytes are cut, what is refused as
// malformed, and 5,000 random chunked streams that may only ever be refused with an Error.

import { random } from "@mcp/mcdsl/testing";
import { describe, expect, it } from "vitest";
import { BodyFraming } from "../src/dataplane/http1/body-framing.js";
import type { Framing } from "../src/dataplane/http1/message-head.js";

const CHUNKED: Framing = { kind: "chunked" };
const latin1 = (s: string) => Buffer.from(s, "latin1");

type Outcome = { end: number } | { error: string } | { incomplete: true };

/** Feeds `pieces` in order; the body's end as an index into all of them together. */
function feed(framing: Framing, pieces: Buffer[]): Outcome {
  const f = new BodyFraming(framing);
  let offset = 0;
  try {
    for (const piece of pieces) {
      const end = f.consume(piece, 0);
      if (f.done) return { end: offset + end };
      if (end !== piece.length) throw new Error(`consumed ${end} of ${piece.length} without being done`);
      offset += piece.length;
    }
  } catch (err) {
    if (err?.constructor !== Error || !(err as Error).message) throw err; // anything else is a bug
    return { error: (err as Error).message };
  }
  return { incomplete: true };
}

/** `input` cut at `cuts` (sorted offsets). */
function cut(input: Buffer, cuts: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const at of [...cuts, input.length]) {
    pieces.push(input.subarray(from, at));
    from = at;
  }
  return pieces;
}

describe("BodyFraming", () => {
  const body =
    '5;name=value\r\nhello\r\nB;a=1;b="x y"\r\n world!!!!!\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n';
  const next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";

  it("finds a chunked body's end (extensions, trailers) with the body split at every byte position", () => {
    const input = latin1(body + next);
    for (let at = 0; at <= input.length; at++) {
      expect(feed(CHUNKED, cut(input, [at])), `cut at ${at}`).toEqual({ end: body.length });
    }
    const oneByOne = Array.from({ length: input.length }, (_, i) => i + 1);
    expect(feed(CHUNKED, cut(input, oneByOne))).toEqual({ end: body.length });
  });

  it("reports the bytes after the body (from a start offset too) and counts the body's bytes", () => {
    const f = new BodyFraming(CHUNKED);
    const input = latin1(`PREFIX${body}${next}`);
    const end = f.consume(input, 6);
    expect(input.toString("latin1", end)).toBe(next);
    expect(f.done).toBe(true);
    expect(f.seen).toBe(body.length);
    expect(f.consume(input, end)).toBe(end); // done: nothing more is body
  });

  it("keeps the trailer lines and the content apart for HTTP/2, the body split at every byte position", () => {
    const input = latin1(body + next);
    for (let at = 0; at <= input.length; at++) {
      const f = new BodyFraming(CHUNKED);
      let content = "";
      for (const piece of cut(input, [at])) f.consume(piece, 0, (d) => (content += d.toString("latin1")));
      expect(content, `cut at ${at}`).toBe("hello world!!!!!");
      expect(f.trailers, `cut at ${at}`).toBe("X-Checksum: abc\r\nX-Other: 1");
    }
    // Without a content callback (HTTP/1.1: the bytes pass as they are) nothing is kept.
    const plain = new BodyFraming(CHUNKED);
    plain.consume(input, 0);
    expect(plain.trailers).toBe("");
  });

  it("ends a body of no chunks at its empty trailer section", () => {
    expect(feed(CHUNKED, [latin1("0\r\n\r\nrest")])).toEqual({ end: 5 });
    expect(feed(CHUNKED, [latin1("000;x=y\r\n\r\n")])).toEqual({ end: 11 });
  });

  it("counts a Content-Length down across pieces and leaves the rest", () => {
    const f = new BodyFraming({ kind: "length", length: 10 });
    expect(f.consume(latin1("12345"), 0)).toBe(5);
    expect(f.done).toBe(false);
    expect(f.consume(latin1("xx67890GET"), 2)).toBe(7);
    expect(f.done).toBe(true);
    expect(f.seen).toBe(10);
  });

  it("is done at once without a body, and never done for a body that runs until the close", () => {
    const none = new BodyFraming({ kind: "none" });
    expect(none.done).toBe(true);
    expect(none.consume(latin1("GET / HTTP/1.1"), 3)).toBe(3);
    const close = new BodyFraming({ kind: "close" });
    expect(close.untilClose).toBe(true);
    expect(close.consume(latin1("0\r\n\r\nanything"), 0)).toBe(13);
    expect(close.done).toBe(false);
  });

  const trailers = `0\r\n${`X-A: ${"b".repeat(100)}\r\n`.repeat(200)}\r\n`;
  it.each([
    ["a size that is not hex", "x\r\n", /chunk size missing/],
    ["an extension without a size", ";ext\r\n", /chunk size missing/],
    ["a negative size", "-5\r\n", /chunk size missing/],
    ["a space before the size", " 5\r\n", /chunk size missing/],
    ["a 0x prefix", "0x5\r\n", /malformed chunk size line/],
    ["a bare LF after the size", "5\nhello\r\n", /malformed chunk size line/],
    ["a CR not followed by LF after the size", "5\r\rhello", /not ended by CRLF/],
    ["a bare LF in an extension", "5;ext\nhello", /malformed chunk extension/],
    ["a NUL in an extension", "5;a\0b\r\n", /malformed chunk extension/],
    ["data longer than its size", "5\r\nhelloXY\r\n", /not followed by CRLF/],
    ["data followed by CR and not LF", "5\r\nhello\rX", /not followed by CRLF/],
    ["a size of 14 hex digits", "10000000000000\r\n", /chunk size too large/],
    ["an oversized chunk-size line", `5;${"a".repeat(5000)}\r\n`, /chunk line too long/],
    ["an oversized trailer line", `0\r\nX-A: ${"b".repeat(5000)}\r\n\r\n`, /chunk line too long/],
    ["a trailer line ended by a bare LF", "0\r\nX-A: b\nX-B: c\r\n\r\n", /trailer line not ended by CRLF/],
    ["a trailer line ended by CR CR", "0\r\nX-A: b\r\r\n\r\n", /trailer line not ended by CRLF/],
    ["a trailer section over 16 KiB", trailers, /trailer section too large/],
  ])("refuses %s, whole and byte by byte", (_what, input, message) => {
    const bytes = latin1(input);
    for (const pieces of [
      [bytes],
      cut(
        bytes,
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      ),
    ]) {
      const outcome = feed(CHUNKED, pieces);
      expect(outcome).toHaveProperty("error");
      expect((outcome as { error: string }).error).toMatch(message);
    }
  });

  it("gives the same answer for 5,000 random chunked streams however they are cut, with only Error thrown", () => {
    const rnd = random(91);
    const int = (n: number) => Math.floor(rnd() * n);
    const INTERESTING = [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3b, 0x3a, 0x30, 0x46, 0x66, 0x67, 0x78, 0xff];
    let completed = 0;
    for (let n = 0; n < 5_000; n++) {
      let valid = "";
      for (let chunks = int(5); chunks > 0; chunks--) {
        const size = 1 + int(300);
        const hex = size.toString(16);
        valid += `${rnd() < 0.3 ? hex.toUpperCase() : hex}${rnd() < 0.3 ? ";ext=1" : ""}\r\n${"d".repeat(size)}\r\n`;
      }
      valid += `0\r\n${rnd() < 0.3 ? "X-Trailer: t\r\n" : ""}\r\n`;
      const bytes = [...latin1(`${valid}NEXT`)];
      const mutations = n % 4 === 0 ? 0 : 1 + int(3);
      for (let m = 0; m < mutations; m++) {
        const at = int(bytes.length);
        const byte = rnd() < 0.7 ? INTERESTING[int(INTERESTING.length)]! : int(256);
        const op = int(3);
        if (op === 0) bytes[at] = byte;
        else if (op === 1) bytes.splice(at, 0, byte);
        else bytes.splice(at, 1);
      }
      const input = Buffer.from(bytes);
      const whole = feed(CHUNKED, [input]);
      const cuts = [int(input.length + 1), int(input.length + 1), int(input.length + 1)].sort(
        (a, b) => a - b,
      );
      expect(
        feed(CHUNKED, cut(input, cuts)),
        `stream ${n}: ${JSON.stringify(input.toString("latin1"))}`,
      ).toEqual(whole);
      if (mutations === 0) expect(whole).toEqual({ end: valid.length });
      if ("end" in whole) completed++;
    }
    expect(completed).toBeGreaterThan(1_250); // the valid quarter at least: the test exercised ends
  });
});
