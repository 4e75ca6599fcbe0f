// raw.test's backend in backend-abuse.test.ts: one misbehaviour per path, written byte for byte.
import type { Socket } from "node:net";
import { gzipSync } from "node:zlib";

const GZIPPED = gzipSync("the content, coded for transfer");

/** Writes `bytes` one byte every 10 ms (until the proxy closes the connection). */
function trickle(socket: Socket, bytes: string): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= bytes.length) return void clearInterval(timer);
    socket.write(bytes[i++]!, "latin1");
  }, 10);
}

/** raw.test's answers, by path: each one a way to get HTTP/1.1 wrong (or right, for /ok). */
export function answer(socket: Socket, path: string): void {
  const w = (s: string) => socket.write(s, "latin1");
  const later = (f: () => void) => setTimeout(f, 20);
  const ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  switch (path) {
    case "/ok":
      return void w(ok);
    case "/garbage":
      return void w("SSH-2.0-OpenSSH_9.6 this is not http\r\n\r\n");
    case "/status-then-close":
      return void socket.end("HTTP/1.1 200 OK\r\n");
    case "/huge-head": // never ends: refused once past 64 KiB
      return void w(`HTTP/1.1 200 OK\r\nx-pad: ${"p".repeat(70 << 10)}`);
    case "/bare-lf":
      return void w("HTTP/1.1 200 OK\nx-a: b\r\ncontent-length: 2\r\n\r\nok");
    case "/obs-fold":
      return void w("HTTP/1.1 200 OK\r\nx-a: b\r\n c\r\ncontent-length: 2\r\n\r\nok");
    case "/nul":
      return void w("HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 2\r\n\r\nok");
    case "/two-lengths":
      return void w("HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok!");
    case "/status-600":
      return void w("HTTP/1.1 600 Library Error\r\ncontent-length: 2\r\n\r\nok");
    case "/cl-te":
      return void w(
        "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      );
    case "/te-gzip":
      w("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n");
      return void socket.end(GZIPPED);
    case "/bad-chunk":
      w("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
      return void later(() => w("zz\r\nmore\r\n0\r\n\r\n"));
    case "/short-body":
      w("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789");
      return void later(() => socket.end());
    case "/rst-mid-body":
      w(`HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n${"x".repeat(100)}`);
      return void later(() => socket.resetAndDestroy());
    case "/close-delimited":
      w("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nfirst\n");
      return void later(() => socket.end("second\n"));
    case "/interim":
      return void w(`${"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n".repeat(100)}${ok}`);
    case "/unasked-101":
      return void w(
        "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n\x81\x05hello",
      );
    case "/204-body": // the body in the same segment as the head, so the test does not race the pool
      return void w("HTTP/1.1 204 No Content\r\n\r\nstray body");
    case "/204-length":
      return void w("HTTP/1.1 204 No Content\r\ncontent-length: 10\r\n\r\n");
    case "/304-body":
      return void w('HTTP/1.1 304 Not Modified\r\netag: "v1"\r\n\r\nstray body');
    case "/head-body":
      return void w("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
    case "/early-413": // at once, while the client still uploads (the raw backend skips the body)
      return void w("HTTP/1.1 413 Content Too Large\r\ncontent-length: 10\r\n\r\ntoo large\n");
    case "/silent":
      return;
    case "/trickle":
      return void trickle(socket, "HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\ntrickle");
    case "/trickle-long-head": // 2.5 s of head: past response_timeout_ms (800)
      return void trickle(
        socket,
        `HTTP/1.1 200 OK\r\nx-slow: ${"s".repeat(220)}\r\ncontent-length: 2\r\n\r\nok`,
      );
  }
}
