// The reference config file loads as written, so what it documents stays true.
import { describe, expect, it } from "vitest";
import { loadMcproxyConfig } from "../src/config.js";

describe("config.example.toml", () => {
  it("loads as documented, so the reference stays true", () => {
    const config = loadMcproxyConfig(new URL("../config.example.toml", import.meta.url).pathname);
    expect(config.proxy).toMatchObject({
      cert_dir: "/srv/mc-proxy/certs",
      extra_cert_dirs: [],
      bootstrap_file: "/etc/mc-proxy/routes.toml",
    });
  });
});
