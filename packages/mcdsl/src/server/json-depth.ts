// A JSON body is read by code that recurses once per level of nesting (protobuf's fromJson, the
// field-path explainer, JSON.stringify for messages): 10,000 levels overflowed the stack, and REST
// answered 500 "Maximum call stack size exceeded" while a Connect JSON call got no answer at all.
// A body nested deeper than protobuf's own recursion limit (100) cannot be a valid message: it is
// refused before anything decodes it.

export const MAX_JSON_DEPTH = 100;

const [OPEN_OBJECT, OPEN_ARRAY, CLOSE_OBJECT, CLOSE_ARRAY, QUOTE, BACKSLASH] = [
  0x7b, 0x5b, 0x7d, 0x5d, 0x22, 0x5c,
];

/** Whether `body` nests objects and arrays deeper than `limit` (text in strings is skipped). */
export function nestsTooDeep(body: Uint8Array, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}

export const tooDeepMessage = `request body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`;
