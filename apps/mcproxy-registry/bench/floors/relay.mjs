// The HTTP/1.1 floor for a proxy written in Node: TLS terminated by Node's tls.Server and the
// bytes relayed as they come to one backend connection per client connection (no parsing, no
// X-Forwarded-*, no metrics, no timeouts, no pooling). Not a proxy anyone should run: what
// bench/run.sh measures it for (FLOORS=1) is how close mc-proxy is to what Node itself allows.
//   node relay.mjs CERT KEY PORT BACKEND_PORT
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { createServer } from "node:tls";

const [cert, key, port, backendPort] = process.argv.slice(2);
const options = { cert: readFileSync(cert), key: readFileSync(key), ALPNProtocols: ["http/1.1"] };
createServer(options, (client) => {
  const backend = connect({ host: "127.0.0.1", port: Number(backendPort), noDelay: true });
  client.setNoDelay(true);
  client.on("data", (chunk) => backend.write(chunk));
  backend.on("data", (chunk) => client.write(chunk));
  client.on("close", () => backend.destroy());
  backend.on("close", () => client.destroy());
  client.on("error", () => {});
  backend.on("error", () => {});
}).listen(Number(port), "127.0.0.1");
