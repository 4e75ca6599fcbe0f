// The time the broker and its scheduler go by; tests pass a clock they move themselves.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
