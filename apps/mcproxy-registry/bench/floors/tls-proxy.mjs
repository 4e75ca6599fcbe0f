// The new-connection floor for a proxy written in Node: Node's tls.Server, each request sent on
// over a pool of keep-alive backend connections and the response relayed once its Content-Length
// is in; `Connection: close` from the client closes its connection after the response (the
// backend connection is kept). Nothing else: no validation, no metrics, no timeouts. What
// bench/run.sh measures it for (FLOORS=1) is how close mc-proxy is to what Node itself allows.
//   node tls-proxy.mjs CERT KEY PORT BACKEND_PORT
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { createServer } from "node:tls";

const [cert, key, port, backendPort] = process.argv.slice(2);
const HEAD_END = Buffer.from("\r\n\r\n");
const idle = [];

function backendConnection() {
  const backend = connect({ host: "127.0.0.1", port: Number(backendPort), noDelay: true });
  backend.on("error", () => {});
  let pending;
  backend.on("data", (chunk) => {
    pending = pending ? Buffer.concat([pending, chunk]) : chunk;
    const end = pending.indexOf(HEAD_END);
    if (end < 0) return;
    const length = /content-length: *(\d+)/i.exec(pending.toString("latin1", 0, end));
    const total = end + 4 + (length ? Number(length[1]) : 0);
    if (pending.length < total) return;
    const { client } = backend;
    const response = pending;
    pending = undefined;
    backend.client = undefined;
    idle.push(backend);
    client.write(response);
    if (client.closeAfter) client.end();
  });
  return backend;
}

const options = { cert: readFileSync(cert), key: readFileSync(key), ALPNProtocols: ["http/1.1"] };
createServer(options, (client) => {
  client.setNoDelay(true);
  client.on("error", () => {});
  client.on("data", (chunk) => {
    let request = chunk.toString("latin1");
    client.closeAfter = /\r\nconnection: *close\r\n/i.test(request);
    // The backend connection stays open for the next client.
    if (client.closeAfter) request = request.replace(/(\r\nconnection: *)close/i, "$1keep-alive");
    const backend = idle.pop() ?? backendConnection();
    backend.client = client;
    backend.write(request, "latin1");
  });
}).listen(Number(port), "127.0.0.1");
