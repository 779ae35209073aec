// Shared test helpers: the real kubectl as an async child process (own discovery cache), and a
// small HTTPS admission webhook with its own CA.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateBundle } from "../../src/tls/generate.js";

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class Kubectl {
  readonly dir = mkdtempSync(join(tmpdir(), "hookguard-kubectl-"));
  private n = 0;

  constructor(private readonly kubeconfig: string) {}

  run(args: string[], stdin?: string): Promise<KubectlResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        "kubectl",
        ["--kubeconfig", this.kubeconfig, "--cache-dir", join(this.dir, "cache"), ...args],
        {
          env: { ...process.env, HOME: this.dir, KUBECONFIG: this.kubeconfig },
          stdio: ["pipe", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(stdin ?? "");
    });
  }

  /** Writes a manifest to a file and returns its path (kubectl messages name the file). */
  manifest(name: string, text: string): string {
    const p = join(this.dir, `${++this.n}-${name}`);
    writeFileSync(p, text);
    return p;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface WebhookServer {
  url: string;
  caPem: string;
  caBundle: string;
  port: number;
  reviews: any[];
  stop(): Promise<void>;
}

export type ReviewHandler = (
  request: any,
  path: string,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** An HTTPS admission webhook answering AdmissionReviews with `handler`'s response fields. */
export async function startWebhook(handler: ReviewHandler, dnsNames: string[] = []): Promise<WebhookServer> {
  const bundle = generateBundle({ dnsNames });
  const reviews: any[] = [];
  const server: Server = createServer(
    { key: bundle.serving.keyPem, cert: bundle.serving.certPem },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        const review = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        reviews.push(review);
        const answer = {
          apiVersion: review.apiVersion,
          kind: "AdmissionReview",
          response: { uid: review.request.uid, ...(await handler(review.request, req.url ?? "")) },
        };
        const text = JSON.stringify(answer);
        if (res.destroyed) return;
        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
        res.end(text);
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    caPem: bundle.ca.certPem,
    caBundle: Buffer.from(bundle.ca.certPem).toString("base64"),
    port,
    reviews,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export function until<T>(
  fn: () => T | undefined | false,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const v = fn();
      if (v) return resolve(v);
      if (Date.now() - start > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

export interface DevCluster {
  child: ChildProcess;
  stdout(): string;
  /** The KUBECONFIG=<path> it printed once it served. */
  kubeconfig: Promise<string>;
  exited: Promise<number | null>;
}

/** `npm run dev:cluster -- ARGS` as a person runs it (async, so this process's servers stay responsive). */
export function spawnDevCluster(args: string[], timeoutMs = 90_000): DevCluster {
  const child = spawn(process.execPath, ["--import", "tsx", "test/apiserver/dev-cluster.ts", ...args], {
    cwd: new URL("../..", import.meta.url).pathname,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const kubeconfig = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no KUBECONFIG line within ${timeoutMs / 1000} s; stderr: ${err}`)),
      timeoutMs,
    );
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /^KUBECONFIG=(.+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", () => reject(new Error(`exited early: ${err}`)));
  });
  return { child, stdout: () => out, kubeconfig, exited };
}
