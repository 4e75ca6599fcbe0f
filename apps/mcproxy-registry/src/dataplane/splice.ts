// Relays bytes one way between two sockets, with backpressure: when the writer's buffer is full the
// reader pauses until it drains. This is the L4 hot path, so it does what pipe() does minus its
// bookkeeping (unpipe, multiple destinations, cleanup listeners), and allocates nothing per chunk.
import type { Socket } from "node:net";

const TARGET = Symbol("splice target");
type Spliced = Socket & { [TARGET]?: Socket };

function onData(this: Spliced, chunk: Buffer): void {
  const to = this[TARGET];
  if (to && !to.write(chunk)) this.pause();
}
function onEnd(this: Spliced): void {
  const to = this[TARGET];
  if (to && !to.writableEnded) to.end();
}
/** `this` is the writer; the reader is found through the writer's own TARGET (the other way round). */
function onDrain(this: Spliced): void {
  this[TARGET]?.resume();
}

/** Splices `a` and `b` both ways; each side's end is passed on (half-close), errors are the caller's. */
export function spliceBoth(a: Socket, b: Socket): void {
  (a as Spliced)[TARGET] = b;
  (b as Spliced)[TARGET] = a;
  a.on("data", onData);
  b.on("data", onData);
  a.on("end", onEnd);
  b.on("end", onEnd);
  a.on("drain", onDrain);
  b.on("drain", onDrain);
  a.resume();
  b.resume();
}
