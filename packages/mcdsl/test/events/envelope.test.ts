import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent, type McpEvent } from "../../src/events/index.js";
import { toJsonObject } from "../../src/events/json-data.js";

const event: McpEvent = {
  id: "01JDA6Z0M7Q4S8YV2W3X5K9N1P",
  time: new Date("2026-11-22T10:00:00.123Z"),
  source: { app: "cert-broker", node: "node1" },
  type: "mcp.cert.issued",
  subject: "www.example.com",
  data: {
    hostname: "www.example.com",
    serial: "0a1b",
    sans: ["a", "b"],
    nested: { n: 1, ok: true, none: null },
  },
};

describe("the envelope on the wire", () => {
  it("is the Event's canonical JSON", () => {
    const json = JSON.parse(new TextDecoder().decode(encodeEvent(event)));
    expect(json).toEqual({
      id: event.id,
      time: "2026-11-22T10:00:00.123Z",
      source: { app: "cert-broker", node: "node1" },
      type: "mcp.cert.issued",
      subject: "www.example.com",
      data: event.data,
    });
  });

  it("reads back as the same event, with the stream sequence", () => {
    expect(decodeEvent(encodeEvent(event), 42)).toEqual({ ...event, sequence: 42 });
  });

  it("leaves out empty subject and deploy id both ways", () => {
    const bare: McpEvent = { ...event, subject: undefined, data: {} };
    delete bare.subject;
    const wire = new TextDecoder().decode(encodeEvent(bare));
    expect(wire).not.toMatch(/subject|deployId/);
    expect(decodeEvent(encodeEvent(bare), 1)).toEqual({ ...bare, sequence: 1 });
  });

  it("ignores fields a newer publisher added", () => {
    const newer = JSON.stringify({
      ...JSON.parse(new TextDecoder().decode(encodeEvent(event))),
      priority: 3,
    });
    expect(decodeEvent(new TextEncoder().encode(newer), 7).id).toBe(event.id);
  });

  it.each([
    ["hello", /stream message 9 is not an mcp.events.v1.Event: .*hello/],
    ['{"type":"mcp.x","time":"2026-11-22T10:00:00Z"}', /lacks an id/],
    ['{"id":"x","type":"mcp.x"}', /lacks a time/],
  ])("refuses a message that is not an event: %s", (text, message) => {
    expect(() => decodeEvent(new TextEncoder().encode(text), 9)).toThrow(
      expect.objectContaining({ code: "BAD_ENVELOPE", message: expect.stringMatching(message) }),
    );
  });
});

describe("event data", () => {
  it("drops undefined properties (optional fields)", () => {
    expect(toJsonObject("mcp.x", { a: 1, b: undefined, c: [{ d: undefined }] })).toEqual({ a: 1, c: [{}] });
  });

  it.each([
    [[1, 2] as unknown, "data must be a plain object, got an array"],
    ["text", "data must be a plain object, got a string"],
    [null, "data must be a plain object, got null"],
    [{ at: new Date() }, "data.at is a Date, not JSON (send date.toISOString())"],
    [{ list: [1, Number.NaN] }, "data.list[1] is NaN, which JSON cannot carry"],
    [{ big: 10n }, "data.big is a bigint, not JSON"],
    [{ m: new Map() }, "data.m is a Map, not JSON"],
  ])("refuses data: %s", (data, message) => {
    expect(() => toJsonObject("mcp.x", data)).toThrow(
      expect.objectContaining({ code: "INVALID_DATA", message: `event mcp.x: ${message}` }),
    );
  });
});
