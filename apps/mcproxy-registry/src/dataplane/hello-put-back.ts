// Gives the TLS socket the ClientHello that sniffing read, in pieces under 1 KiB. Why: Node feeds
// the bytes buffered on the raw socket to OpenSSL one read() at a time (TLSSocket's initRead), into
// an input buffer (NodeBIO) whose first block is 1 KiB or the size of the first piece. A hello over
// 1 KiB (today's browsers send about 1.8 KB: the X25519MLKEM768 key share) filled that block
// exactly, and NodeBIO then added a 16 KiB block that stays for the life of the connection: about
// 10 KB of memory per idle connection, measured. Fed in pieces, each is read by OpenSSL before the
// next arrives, and the 1 KiB block suffices until the client sends 1 KiB or more at once.

import type { Socket } from "node:net";

const PIECE = 1000;

export function putBackHello(client: Socket, hello: Buffer): void {
  // Buffered whole as well: if Node ever stops calling read() for it, it still gets the hello.
  client.unshift(hello);
  if (hello.length <= PIECE) return;
  const pieces: Buffer[] = [];
  for (let at = 0; at < hello.length; at += PIECE) pieces.push(hello.subarray(at, at + PIECE));
  const read = client.read;
  // An own read() for initRead's loop: the pieces, then the buffered copy discarded and the
  // prototype's read() back (assigned, not deleted: a delete would turn the socket into a
  // dictionary-mode object, 1.6 KB more per connection, measured).
  client.read = (size?: number) => {
    if (size === 0) return read.call(client, 0); // a nudge (the TLS socket's setup makes one), no data
    const piece = pieces.shift();
    if (piece) return piece;
    client.read = read;
    read.call(client);
    return null;
  };
}
