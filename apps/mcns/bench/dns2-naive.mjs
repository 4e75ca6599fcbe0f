// The "naive dns2 handler" reference: every answer built with dns2's Packet, as the issue describes.
// Usage: node dns2-naive.mjs <port> <names.json>   (names.json: {"name": "address", …})
import { readFileSync } from "node:fs";
import dns2 from "dns2";

const { Packet } = dns2;
const [port, namesFile] = process.argv.slice(2);
const names = new Map(Object.entries(JSON.parse(readFileSync(namesFile, "utf8"))));

const server = dns2.createServer({
  udp: true,
  tcp: true,
  handle: (request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    const address = question && names.get(question.name.toLowerCase());
    if (address && question.type === Packet.TYPE.A) {
      response.answers.push({
        name: question.name,
        type: Packet.TYPE.A,
        class: Packet.CLASS.IN,
        ttl: 300,
        address,
      });
    } else if (!address) {
      response.header.rcode = Packet.RCODE.NXDOMAIN;
    }
    send(response);
  },
});
server.on("requestError", () => {});
server.listen({
  udp: { port: Number(port), address: "127.0.0.1" },
  tcp: { port: Number(port), address: "127.0.0.1" },
});
