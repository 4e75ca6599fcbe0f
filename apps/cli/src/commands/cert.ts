import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type Certificate,
  CertificateStatus,
  KeyType,
  RevocationReason,
} from "@mcp/proto/certbroker/v1/certificate_pb.js";
import {
  CertService,
  GetTrustBundleResponseSchema,
  IssueCertificateResponseSchema,
  ListCertificatesResponseSchema,
  RenewCertificateResponseSchema,
  RevokeCertificateResponseSchema,
} from "@mcp/proto/certbroker/v1/service_pb.js";
import type { Command } from "commander";
import { type CliContext, contextOf } from "../context.js";
import { UsageError } from "../errors.js";
import { messageJson } from "../output/json.js";
import { table, when } from "../output/table.js";

/** `ec-p256` ↔ KeyType.EC_P256, `key-compromise` ↔ REVOCATION_REASON_KEY_COMPROMISE, … */
const words = (name: string) => name.toLowerCase().replace(/_/g, "-");
function fromWords<E extends Record<string, string | number>>(
  e: E,
  option: string,
  text: string,
): E[keyof E] {
  const names = Object.keys(e).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");
  const name = names.find((k) => words(k) === text.toLowerCase());
  if (name === undefined) {
    throw new UsageError(`${option} must be one of ${names.map(words).join(", ")}, got "${text}"`);
  }
  return e[name] as E[keyof E];
}

/** `mcp cert list|issue|renew|revoke|ca`: certificates over certbroker.v1.CertService. */
export function registerCert(program: Command): void {
  const cert = program.command("cert").description("list, issue, renew and revoke certificates");

  cert
    .command("list")
    .description("certificates, newest first")
    .option("--service <service>", "only this service's")
    .option("--hostname <name>", "only those with this name among their SANs")
    .option("--status <status>", "valid, expiring, expired, revoked or superseded")
    .action(async (options: { service?: string; hostname?: string; status?: string }, command: Command) => {
      const context = contextOf(command);
      const client = broker(context);
      const certificates: Certificate[] = [];
      let pageToken = "";
      do {
        const page = await client.listCertificates({
          service: options.service ?? "",
          hostname: options.hostname?.toLowerCase() ?? "",
          status: options.status ? fromWords(CertificateStatus, "--status", options.status) : 0,
          pageSize: 1000,
          pageToken,
        });
        certificates.push(...page.certificates);
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      context.print(
        table(
          ["SERIAL", "SERVICE", "HOSTNAMES", "STATUS", "NOT AFTER", "KEY"],
          certificates.map((c) => [
            c.serial,
            c.service,
            c.hostnames.join(", "),
            words(CertificateStatus[c.status] ?? "-"),
            when(c.notAfter && timestampDate(c.notAfter)),
            words(KeyType[c.keyType] ?? "-"),
          ]),
        ),
        messageJson(ListCertificatesResponseSchema, create(ListCertificatesResponseSchema, { certificates })),
      );
    });

  cert
    .command("issue <service> <hostname...>")
    .description(
      "issue (or reuse) a certificate for a service's hostnames; names other than <service>.<domain> count as its routes' names",
    )
    .option("--key-type <type>", "ec-p256, rsa-2048 or rsa-3072", "ec-p256")
    .option("--client-auth", "add the clientAuth extended key usage")
    .action(
      async (
        service: string,
        hostnames: string[],
        options: { keyType: string; clientAuth?: boolean },
        command: Command,
      ) => {
        const context = contextOf(command);
        const names = hostnames.map((h) => h.toLowerCase().replace(/\.$/, ""));
        const response = await broker(context).issueCertificate({
          service,
          hostnames: names,
          routeHostnames: names,
          keyType: fromWords(KeyType, "--key-type", options.keyType),
          clientAuth: options.clientAuth ?? false,
        });
        const c = response.certificate!;
        context.print(
          `${response.reused ? "reused" : "issued"} ${describe(c)}`,
          messageJson(IssueCertificateResponseSchema, response),
        );
      },
    );

  cert
    .command("renew <serial>")
    .description("issue a new certificate (new key) for the same names now; the old one is superseded")
    .action(async (serial: string, _options, command: Command) => {
      const context = contextOf(command);
      const response = await broker(context).renewCertificate({ serial: serial.toLowerCase() });
      context.print(
        `renewed ${serial} as ${describe(response.certificate!)}`,
        messageJson(RenewCertificateResponseSchema, response),
      );
    });

  cert
    .command("revoke <serial>")
    .description("revoke a certificate and delete its key")
    .option(
      "--reason <reason>",
      "key-compromise, ca-compromise, affiliation-changed, superseded, cessation-of-operation, privilege-withdrawn",
    )
    .option("--comment <text>", "why, for the audit log")
    .action(async (serial: string, options: { reason?: string; comment?: string }, command: Command) => {
      const context = contextOf(command);
      const response = await broker(context).revokeCertificate({
        serial: serial.toLowerCase(),
        reason: options.reason ? fromWords(RevocationReason, "--reason", options.reason) : 0,
        comment: options.comment ?? "",
      });
      context.print(
        `revoked ${describe(response.certificate!)}`,
        messageJson(RevokeCertificateResponseSchema, response),
      );
    });

  cert
    .command("ca")
    .description("print the trust bundle (PEM): the root certificates clients should trust")
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      const response = await broker(context).getTrustBundle({});
      context.print(response.pem.trimEnd(), messageJson(GetTrustBundleResponseSchema, response));
    });
}

function broker(context: CliContext) {
  return context.client(CertService, "certbroker");
}

function describe(c: Certificate): string {
  const until = c.notAfter ? when(timestampDate(c.notAfter)) : "-";
  return `certificate ${c.serial} for ${c.hostnames.join(", ")} (service ${c.service}, until ${until}, chain ${c.chainFile || "-"})`;
}
