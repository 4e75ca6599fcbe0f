// The local CA's CRL over plain HTTP (as CRL distribution points are: the CRL is signed, and a TLS
// client checking revocation cannot depend on TLS). GET /crl is DER (application/pkix-crl), /crl.pem
// PEM, /ca.pem the trust bundle. It has its own listener because mcdsl's serve() carries only
// Connect/REST routes, and it needs no token.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseListenAddress } from "@mcp/mcdsl/config";
import type { Logger } from "@mcp/mcdsl/log";
import type { Broker } from "../broker/broker.js";

export interface CrlServer {
  url: string;
  close(): Promise<void>;
}

export async function serveCrl(broker: Broker, listen: string, logger: Logger): Promise<CrlServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const reply = async () => {
      if (path === "/crl" || path === "/crl.pem") {
        const der = await broker.crl();
        if (!der) return res.writeHead(404, { "content-type": "text/plain" }).end("this issuer has no CRL\n");
        if (path === "/crl") {
          return res.writeHead(200, { "content-type": "application/pkix-crl" }).end(Buffer.from(der));
        }
        const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").trimEnd();
        return res
          .writeHead(200, { "content-type": "application/x-pem-file" })
          .end(`-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`);
      }
      if (path === "/ca.pem") {
        const roots = await broker.trustBundle();
        return res
          .writeHead(200, { "content-type": "application/x-pem-file" })
          .end(roots.map((r) => `${r}\n`).join(""));
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /crl, /crl.pem or /ca.pem\n");
    };
    reply().catch((err: unknown) => {
      logger.error({ err }, "could not serve the CRL");
      if (!res.headersSent)
        res.writeHead(500, { "content-type": "text/plain" }).end("could not build the CRL\n");
    });
  });
  const { host, port } = parseListenAddress(listen);
  server.listen(port, host === "" ? "::" : host);
  await once(server, "listening");
  const bound = server.address() as AddressInfo;
  const shownHost = bound.address.includes(":") ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
