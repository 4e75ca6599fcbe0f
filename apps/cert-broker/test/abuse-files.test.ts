// A hostile or careless neighbour on the node plants things in cert_dir where the broker writes or
// reads: symlinks, FIFOs, directories. The broker must not write through a link, must not block or
// exhaust memory reading, must refuse what it cannot replace naming the path, and must keep serving
// and keep starting.
import { execFileSync } from "node:child_process";
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import { brokerForSuite, publishedSerial, refusal } from "./helpers/abuse.js";
import { certEvents, waitFor } from "./helpers/events.js";

const t = brokerForSuite({
  nats: true,
  config: { policy: 'public_hostnames = [".files.example.org"]', renewal: 'interval = "200ms"' },
});

beforeAll(() => {
  mkdirSync(t.broker.certDir, { recursive: true }); // the broker makes it on its first write
});

const own = (service: string) => `${service}.svc.mcp.metacircular.net`;
const inCertDir = (name: string) => join(t.broker.certDir, name);
const issue = (service: string) =>
  t.broker
    .client(t.broker.tokens.agent)
    .issueCertificate({ service, hostnames: [own(service)] }, { timeoutMs: 10_000 });

/** Stops the broker and starts it again; fails (rather than hangs) when it is not ready in 20 s. */
async function restart(): Promise<void> {
  await t.app.stop();
  t.app = t.broker.spawn();
  await t.app.waitReady(`${t.broker.url}/readyz`, 20_000);
}

/**
 * Puts what `make` creates at `path` with one rename: the suite's renewal pass may republish a
 * missing file at any moment, so removing it first and creating the thing after would race.
 */
function plant(path: string, make: (tmp: string) => void): void {
  const tmp = `${path}.planting`;
  make(tmp);
  for (let tries = 0; ; tries++) {
    try {
      renameSync(tmp, path);
      return;
    } catch (err) {
      if (tries === 5) throw err;
      rmSync(path, { recursive: true, force: true }); // a directory cannot replace a file by rename
    }
  }
}

/** The broker still answers: a call that needs the event loop and the database. */
async function stillServing(): Promise<void> {
  const res = await t.broker.client(t.broker.tokens.reader).listCertificates({}, { timeoutMs: 10_000 });
  expect(Array.isArray(res.certificates)).toBe(true);
}

describe("things planted in cert_dir", () => {
  it("replaces a planted symlink instead of writing through it", async () => {
    const victim = join(t.broker.dir, "victim.txt");
    writeFileSync(victim, "precious\n");
    for (const suffix of [".pem", ".key", ".chain.pem"])
      symlinkSync(victim, inCertDir(`${own("link")}${suffix}`));
    const res = await issue("link");
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    for (const suffix of [".pem", ".key", ".chain.pem"]) {
      expect(lstatSync(inCertDir(`${own("link")}${suffix}`)).isFile()).toBe(true);
    }
    expect(publishedSerial(t.broker.certDir, own("link"))).toBe(res.certificate!.serial);
  });

  it("revokes a certificate whose published file was replaced by a FIFO without blocking", async () => {
    const res = await issue("fifo");
    const pem = inCertDir(`${own("fifo")}.pem`);
    plant(pem, (p) => execFileSync("mkfifo", [p]));
    const revoked = await t.broker
      .client(t.broker.tokens.agent)
      .revokeCertificate({ serial: res.certificate!.serial }, { timeoutMs: 10_000 });
    expect(revoked.certificate?.revokeTime).toBeDefined();
    await stillServing();
    // What was not the broker's (the FIFO) stays, unless a renewal pass had put the leaf back
    // before the revocation; what held the revoked certificate and key is gone.
    expect(lstatSync(pem, { throwIfNoEntry: false })?.isFIFO() ?? true).toBe(true);
    expect(() => lstatSync(inCertDir(`${own("fifo")}.key`))).toThrow(/ENOENT/);
    expect(() => lstatSync(inCertDir(`${own("fifo")}.chain.pem`))).toThrow(/ENOENT/);
  });

  it("starts when a current certificate's files became a FIFO and a link to /dev/zero, and republishes them", async () => {
    const fifo = await issue("pipe");
    const zero = await issue("zero");
    plant(inCertDir(`${own("pipe")}.pem`), (p) => execFileSync("mkfifo", [p]));
    plant(inCertDir(`${own("zero")}.key`), (p) => symlinkSync("/dev/zero", p));
    await restart();
    expect(publishedSerial(t.broker.certDir, own("pipe"))).toBe(fifo.certificate!.serial);
    expect(publishedSerial(t.broker.certDir, own("zero"))).toBe(zero.certificate!.serial);
  });

  it("refuses to issue when a file it must replace is a directory, naming it, and stores nothing", async () => {
    const blocked = inCertDir(`${own("dir")}.key`);
    mkdirSync(blocked);
    const err = await refusal(issue("dir"));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain(blocked);
    expect(err.rawMessage).toContain("directory");
    const listed = await t.broker.client(t.broker.tokens.reader).listCertificates({ service: "dir" });
    expect(listed.certificates).toEqual([]);
    await stillServing();
    rmSync(blocked, { recursive: true });
    expect((await issue("dir")).reused).toBe(false);
  });

  it("refuses to issue while cert_dir is not a directory, naming it, and issues once it is again", async () => {
    const moved = `${t.broker.certDir}.moved`;
    renameSync(t.broker.certDir, moved);
    plant(t.broker.certDir, (p) => writeFileSync(p, "not a directory\n"));
    try {
      const err = await refusal(issue("nodir"));
      expect(err.code).toBe(Code.FailedPrecondition);
      expect(err.rawMessage).toContain(t.broker.certDir);
      const listed = await t.broker.client(t.broker.tokens.reader).listCertificates({ service: "nodir" });
      expect(listed.certificates).toEqual([]);
    } finally {
      rmSync(t.broker.certDir);
      renameSync(moved, t.broker.certDir);
    }
    expect((await issue("nodir")).reused).toBe(false);
  });

  it("removes a dropped name's files when the service's new certificate no longer has it, also after a crash", async () => {
    const dropped = "dropped.files.example.org";
    const agent = t.broker.client(t.broker.tokens.agent);
    const both = await agent.issueCertificate({
      service: "drop",
      hostnames: [own("drop"), dropped],
      routeHostnames: [dropped],
    });
    expect(publishedSerial(t.broker.certDir, dropped)).toBe(both.certificate!.serial);
    const oldFiles = Object.fromEntries(
      [".pem", ".key", ".chain.pem"].map((suffix) => [
        suffix,
        readFileSync(inCertDir(`${dropped}${suffix}`)),
      ]),
    );
    const next = await issue("drop"); // supersedes it: the kept name gets the new certificate
    expect(publishedSerial(t.broker.certDir, own("drop"))).toBe(next.certificate!.serial);
    const gone = () => {
      for (const suffix of [".pem", ".key", ".chain.pem"]) {
        expect(() => lstatSync(inCertDir(`${dropped}${suffix}`))).toThrow(/ENOENT/);
      }
    };
    gone();
    // A crash between the commit and the removal leaves them: the next start removes them.
    for (const [suffix, bytes] of Object.entries(oldFiles))
      writeFileSync(inCertDir(`${dropped}${suffix}`), bytes);
    await restart();
    gone();
    expect(publishedSerial(t.broker.certDir, own("drop"))).toBe(next.certificate!.serial);
    // The superseded certificate can still be revoked, and nothing of the current one goes with it.
    await agent.revokeCertificate({ serial: both.certificate!.serial });
    expect(publishedSerial(t.broker.certDir, own("drop"))).toBe(next.certificate!.serial);
  });

  it("leaves a hostname's key and leaf matched when a renewal cannot replace one of its files", async (ctx) => {
    // chattr +i makes the leaf immutable: not even root may replace it (as a full disk may refuse).
    const first = await issue("pinned");
    const leaf = inCertDir(`${own("pinned")}.pem`);
    try {
      execFileSync("chattr", ["+i", leaf], { stdio: "ignore" });
    } catch {
      ctx.skip(); // a file system without immutable files
    }
    try {
      const err = await refusal(
        t.broker.client(t.broker.tokens.agent).renewCertificate({ serial: first.certificate!.serial }),
      );
      expect(err.code).toBe(Code.FailedPrecondition);
      expect(err.rawMessage).toContain(`publishing "${own("pinned")}"`);
      expect(publishedSerial(t.broker.certDir, own("pinned"))).toBe(first.certificate!.serial);
    } finally {
      execFileSync("chattr", ["-i", leaf]);
    }
    // Once the leaf can be replaced, the next renewal pass publishes what the renewal stored.
    const stored = (
      await t.broker.client(t.broker.tokens.reader).getCertificate({ serial: first.certificate!.serial })
    ).certificate!.replacedBy;
    expect(stored).not.toBe("");
    await waitFor(
      "the stored renewal to be published",
      async () => (publishedSerial(t.broker.certDir, own("pinned")) === stored ? true : undefined),
      10_000,
    );
    // mc-proxy swaps a certificate on mcp.cert.renewed: one must come after the files are in place
    // (the one stored with the renewal went out while the old files were still there).
    const placed = Math.floor(statSync(leaf).mtimeMs);
    await waitFor(
      "mcp.cert.renewed after the files are in place",
      async () => {
        const events = await certEvents(t.nats!.url, "mcp.cert.renewed");
        return events.some((e) => e.data.serial === stored && e.time.getTime() >= placed) ? true : undefined;
      },
      10_000,
    );
  });

  it("puts back removed files when the agent asks again for the certificate it holds", async () => {
    const first = await issue("gone");
    rmSync(inCertDir(`${own("gone")}.pem`));
    rmSync(inCertDir(`${own("gone")}.key`));
    const again = await issue("gone");
    expect(again).toMatchObject({ reused: true, certificate: { serial: first.certificate!.serial } });
    expect(publishedSerial(t.broker.certDir, own("gone"))).toBe(first.certificate!.serial);
  });

  it("starts when a current certificate's file became a directory and a directory looks like a temporary file", async () => {
    const res = await issue("later");
    plant(inCertDir(`${own("later")}.chain.pem`), (p) => mkdirSync(p));
    mkdirSync(inCertDir(".planted.pem.tmp-0123456789ab"));
    await restart();
    await stillServing();
    expect(t.app.stdout()).toContain(inCertDir(`${own("later")}.chain.pem`));
    // Once the directory is gone, the next start publishes the certificate again.
    rmSync(inCertDir(`${own("later")}.chain.pem`), { recursive: true });
    await restart();
    expect(publishedSerial(t.broker.certDir, own("later"))).toBe(res.certificate!.serial);
  });
});
