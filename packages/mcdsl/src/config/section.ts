import * as z from "zod";

/**
 * A config table that may be left out of the file: its keys' defaults apply as if it were
 * written empty. (`z.object(...).default({})` would not do: zod returns a default as it is,
 * without filling the defaults inside it.) A table with required keys still reports them missing.
 */
export function section<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.object(shape).prefault({} as z.input<z.ZodObject<Shape>>);
}
