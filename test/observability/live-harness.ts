// Real processes for the live observability test: `hookguard webhook`, `hookguard agent` (spawned from
// bin/hookguard.js like a user would) and a real Prometheus server scraping their metrics ports, all on
// 127.0.0.1 with ports chosen by the kernel (port 0) and read back from each process's own log.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { repoRoot } from "../chart/render.js";

export interface Proc {
  child: ChildProcess;
  /** Everything written so far (stdout and stderr interleaved), for failure messages. */
  output(): string;
  /** Resolves with the first output line that `match` accepts; rejects on exit or timeout. */
  waitForLine<T>(what: string, match: (line: string) => T | undefined, timeoutMs?: number): Promise<T>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(file: string, args: string[], cwd = repoRoot): Proc {
  const child = spawn(file, args, {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KUBECONFIG: "" },
  });
  let text = "";
  const listeners = new Set<(line: string) => void>();
  let partial = "";
  const onData = (chunk: Buffer) => {
    text += chunk.toString("utf8");
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) for (const l of listeners) l(line);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    output: () => text,
    waitForLine<T>(what: string, match: (line: string) => T | undefined, timeoutMs = 90_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const done = (fn: () => void) => {
          clearTimeout(timer);
          listeners.delete(listener);
          child.off("exit", onExit);
          fn();
        };
        const listener = (line: string) => {
          const v = match(line);
          if (v !== undefined) done(() => resolve(v));
        };
        const onExit = (code: number | null) =>
          done(() => reject(new Error(`${what}: process exited (${code}) first:\n${text.slice(-4000)}`)));
        const timer = setTimeout(
          () =>
            done(() => reject(new Error(`${what}: not seen within ${timeoutMs} ms:\n${text.slice(-4000)}`))),
          timeoutMs,
        );
        listeners.add(listener);
        child.once("exit", onExit);
        for (const line of text.split("\n")) {
          const v = match(line);
          if (v !== undefined) return done(() => resolve(v));
        }
      });
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A field of a pino JSON log line whose msg contains `msgPart`. */
export function logField(msgPart: string, field: string): (line: string) => number | undefined {
  return (line) => {
    if (!line.startsWith("{")) return undefined;
    try {
      const rec = JSON.parse(line);
      return typeof rec.msg === "string" && rec.msg.includes(msgPart) && typeof rec[field] === "number"
        ? rec[field]
        : undefined;
    } catch {
      return undefined;
    }
  };
}

const cli = join(repoRoot, "bin/hookguard.js");

export interface RunningWebhookProcess extends Proc {
  port: number;
  metricsPort: number;
  caPem: string;
}

/** `hookguard webhook ARGS`; `certDir` must be the --cert-dir in args (its ca.crt is read once serving). */
export async function startWebhookProcess(args: string[], certDir: string): Promise<RunningWebhookProcess> {
  const p = startProcess(process.execPath, [cli, "webhook", ...args]);
  try {
    const port = await p.waitForLine("webhook serving", logField("serving /validate and /mutate", "port"));
    const metricsPort = await p.waitForLine(
      "webhook metrics port",
      logField("serving /validate and /mutate", "metricsPort"),
    );
    return Object.assign(p, { port, metricsPort, caPem: await readFile(join(certDir, "ca.crt"), "utf8") });
  } catch (err) {
    await p.stop();
    throw err;
  }
}

export interface RunningAgentProcess extends Proc {
  metricsPort: number;
}

/** `hookguard agent ARGS`, resolved once it has started (metrics port read from its log). */
export async function startAgentProcess(args: string[]): Promise<RunningAgentProcess> {
  const p = startProcess(process.execPath, [cli, "agent", ...args]);
  try {
    const metricsPort = await p.waitForLine("agent metrics port", logField("metrics listening", "port"));
    await p.waitForLine("agent started", (l) => (l.includes("hookguard agent started") ? true : undefined));
    return Object.assign(p, { metricsPort });
  } catch (err) {
    await p.stop();
    throw err;
  }
}

export interface PrometheusServer extends Proc {
  url: string;
  /** Instant query; the `data.result` array of the API's answer. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
}

/** A real Prometheus (Debian package) scraping `targets` every second; data in `dir`. */
export async function startPrometheus(
  dir: string,
  targets: Record<string, string>,
): Promise<PrometheusServer> {
  await mkdir(join(dir, "data"), { recursive: true });
  const config = {
    global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
    scrape_configs: Object.entries(targets).map(([job, target]) => ({
      job_name: job,
      honor_labels: true,
      static_configs: [{ targets: [target] }],
    })),
  };
  await writeFile(join(dir, "prometheus.yml"), stringify(config));
  const p = startProcess(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      "--web.listen-address=127.0.0.1:0",
      "--storage.tsdb.retention.time=1h",
    ],
    dir,
  );
  try {
    // Prometheus logs the configured address first (127.0.0.1:0), then the one it bound
    const port = await p.waitForLine(
      "prometheus listening",
      (l) => {
        const m = /msg="Listening on" address=127\.0\.0\.1:(\d+)/.exec(l);
        return m && m[1] !== "0" ? Number(m[1]) : undefined;
      },
      30_000,
    );
    await p.waitForLine(
      "prometheus ready",
      (l) => (l.includes("Server is ready to receive web requests") ? true : undefined),
      30_000,
    );
    const url = `http://127.0.0.1:${port}`;
    return Object.assign(p, {
      url,
      async query(expr: string) {
        const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body: any = await res.json();
        if (body.status !== "success") throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
        return body.data.result;
      },
    });
  } catch (err) {
    await p.stop();
    throw err;
  }
}

/** Polls `fn` until it returns something other than undefined/false. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
