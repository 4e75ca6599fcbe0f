// Hostnames are normalised before any check, so the name that is checked is the name that is issued:
// case folded, one trailing dot dropped, Unicode mapped and converted to its ASCII (punycode) form by
// UTS #46 (node:url's domainToASCII, the WHATWG URL rules browsers use). A look-alike or full-width
// spelling thus becomes the one ASCII name it really is before policy sees it.
import { domainToASCII, domainToUnicode } from "node:url";
import { BrokerError } from "../broker/errors.js";

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A wildcard in any spelling (a full-width asterisk maps to "*" too). */
export function isWildcard(input: string): boolean {
  return input.includes("*") || domainToASCII(input).includes("*");
}

/** The canonical form of `input`, or a BrokerError naming it (InvalidArgument; wildcards PermissionDenied). */
export function normalizeHostname(input: string): string {
  const shown = JSON.stringify(input);
  if (input.includes("*")) {
    throw new BrokerError("permission-denied", `hostname ${shown}: wildcard certificates are not issued`);
  }
  if (input === "" || input.length > 1024 || /[\s/\\@:?#[\]%]/.test(input)) {
    throw new BrokerError("invalid-argument", `hostname ${shown} is not a DNS name`);
  }
  let ascii = domainToASCII(input);
  if (ascii.endsWith(".")) ascii = ascii.slice(0, -1);
  if (ascii === "")
    throw new BrokerError("invalid-argument", `hostname ${shown} is not a valid (IDNA) DNS name`);
  if (ascii.includes("*")) {
    throw new BrokerError("permission-denied", `hostname ${shown}: wildcard certificates are not issued`);
  }
  const labels = ascii.split(".");
  if (ascii.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    throw new BrokerError(
      "invalid-argument",
      `hostname ${shown} is not a DNS name (labels of a-z, 0-9 and inner hyphens, at least two labels, at most 253 characters)`,
    );
  }
  // domainToASCII passes "xn--" labels through unchecked: one that does not decode is no IDN at all.
  const fake = labels.find((l) => l.startsWith("xn--") && !isALabel(l));
  if (fake !== undefined) {
    throw new BrokerError(
      "invalid-argument",
      `hostname ${shown}: label "${fake}" is not a valid IDNA A-label (its punycode does not decode)`,
    );
  }
  if (/^[0-9]+$/.test(labels.at(-1) ?? "")) {
    throw new BrokerError("invalid-argument", `hostname ${shown} is an IP address, not a DNS name`);
  }
  return ascii;
}

/** Normalised, de-duplicated, in the order given (the first is the certificate's subject). */
export function normalizeHostnames(inputs: string[]): string[] {
  return [...new Set(inputs.map(normalizeHostname))];
}

/** An "xn--" label that decodes to Unicode and encodes back to itself. */
function isALabel(label: string): boolean {
  const unicode = domainToUnicode(label);
  return unicode !== label && domainToASCII(unicode) === label;
}
