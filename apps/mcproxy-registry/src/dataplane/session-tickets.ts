// TLS session tickets for the L7 listeners, renewed on every resumption.
//
// A TLS 1.3 client uses a ticket once. OpenSSL sends a fresh one after a resumed handshake only
// when the ticket-key callback asks for renewal, and the callback Node installs never does
// (nodejs/node#60847): a client reconnecting over and over resumes only every other time, the
// others are full handshakes. Node's secure context has a hook for its own tests to supply that
// callback (`enableTicketKeyCallback` + `onticketkeycallback`, see Node's
// test-https-resume-after-renew.js); we use it with keys of our own, rotated every
// ROTATE_MS (the previous key still opens tickets, which are then renewed under the current one).
// If a future Node drops the hook, tickets keep working the old way and a warning says so.
import { randomBytes } from "node:crypto";
import type { SecureContext, Server as TlsServer } from "node:tls";
import type { Logger } from "@mcp/mcdsl/log";

const ROTATE_MS = 12 * 60 * 60 * 1000;
/** The callback's answers (OpenSSL's ticket key callback return values). */
const UNKNOWN = 0;
const RENEW = 2;
const ISSUED = 1;

interface TicketKey {
  name: Buffer;
  hmac: Buffer;
  aes: Buffer;
}

interface NativeContext {
  enableTicketKeyCallback?: () => void;
  onticketkeycallback?: (name: Buffer, iv: Buffer, encrypt: boolean) => unknown[];
}

function newKey(): TicketKey {
  return { name: randomBytes(16), hmac: randomBytes(16), aes: randomBytes(16) };
}

export class SessionTickets {
  #current = newKey();
  #previous: TicketKey | undefined;
  readonly #timer: NodeJS.Timeout;
  #warned = false;
  /** Random IVs for new tickets, made 256 at a time: one RAND call instead of one per handshake. */
  #ivs = Buffer.alloc(0);
  #ivAt = 0;

  constructor(private readonly logger: Logger) {
    this.#timer = setInterval(() => this.rotate(), ROTATE_MS).unref();
  }

  /** Installs the renewing callback on a TLS server's context; false when Node has no hook. */
  attach(server: TlsServer): boolean {
    return this.#hook(
      (server as unknown as { _sharedCreds?: { context?: NativeContext } })._sharedCreds?.context,
    );
  }

  /**
   * Installs it on a context the SNI callback hands out too: OpenSSL asks that context for ticket
   * keys after a HelloRetryRequest (a client whose first key share the proxy does not take), and
   * without the hook the handshake ended in internal_error.
   */
  attachContext(secureContext: SecureContext): void {
    const context = (secureContext as unknown as { context?: NativeContext }).context;
    if (!context || this.#hooked.has(context)) return;
    this.#hook(context);
  }

  readonly #hooked = new WeakSet<NativeContext>();

  #hook(context: NativeContext | undefined): boolean {
    if (typeof context?.enableTicketKeyCallback !== "function") {
      if (!this.#warned) {
        this.logger.warn(
          "this Node has no ticket-key hook: TLS 1.3 clients will resume every other connection only",
        );
        this.#warned = true;
      }
      return false;
    }
    context.enableTicketKeyCallback();
    context.onticketkeycallback = (name, _iv, encrypt) => this.#callback(name, encrypt);
    this.#hooked.add(context);
    return true;
  }

  #iv(): Buffer {
    if (this.#ivAt + 16 > this.#ivs.length) {
      this.#ivs = randomBytes(16 * 256);
      this.#ivAt = 0;
    }
    this.#ivAt += 16;
    return this.#ivs.subarray(this.#ivAt - 16, this.#ivAt);
  }

  /** A new key for new tickets; tickets under the one before still resume (and are renewed). */
  rotate(): void {
    this.#previous = this.#current;
    this.#current = newKey();
  }

  #callback(name: Buffer, encrypt: boolean): unknown[] {
    const current = this.#current;
    if (encrypt) return [ISSUED, current.hmac, current.aes, current.name, this.#iv()];
    const key = name.equals(current.name)
      ? current
      : this.#previous?.name.equals(name)
        ? this.#previous
        : undefined;
    // An unknown (or expired) key: a full handshake. The keys are still passed, for their lengths.
    if (!key) return [UNKNOWN, current.hmac, current.aes];
    return [RENEW, key.hmac, key.aes];
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
