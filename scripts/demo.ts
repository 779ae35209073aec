// `npm run demo`: the whole system on this machine in under a minute, no cluster needed.
// The "cluster" is the project's API-server double (test/apiserver): a stand-in for a real API
// server that speaks the real wire protocols, with a kubelet, a snapshot controller and pod exec
// confined to per-container image roots. Everything else is the real thing: kubectl, the webhook
// registered through a ValidatingWebhookConfiguration, the agent, the hookguard CLI.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { startApiServer } from "../test/apiserver/server.js";
import { webhookConfigurationsYaml } from "../test/e2e/webhook-configs.js";

const ROOT = join(fileURLToPath(import.meta.url), "../..");
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), "hookguard-demo-"));
const children: ChildProcess[] = [];
// bold only on a terminal: a transcript piped to a file or a CI log must carry no escape codes
const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const say = (text: string): void =>
  void process.stdout.write(`\n${bold(`== ${text}`)}  (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion, echoing it and its output (async: the double runs in this process). */
function run(
  cmd: string,
  args: string[],
  opts: { stdin?: string; filter?: (line: string) => boolean; quiet?: boolean; shownPipe?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // the echoed command is one a reader can paste: `npx hookguard` (the bin is not on PATH in a
  // checkout), and a here-document shown whole, with its body and closing EOF
  if (!opts.quiet) {
    const shown =
      [
        cmd === process.execPath ? "npx hookguard" : cmd,
        ...(cmd === process.execPath ? args.slice(1) : args),
      ].join(" ") + (opts.shownPipe ? ` | ${opts.shownPipe}` : "");
    process.stdout.write(
      opts.stdin ? `$ ${shown} <<'EOF'\n${opts.stdin.replace(/\n?$/, "\n")}EOF\n` : `$ ${shown}\n`,
    );
  }
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: kubeconfig },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(opts.stdin ?? "");
    child.on("exit", (code) => {
      if (!opts.quiet) {
        const out = opts.filter ? stdout.split("\n").filter(opts.filter).join("\n") : stdout.trimEnd();
        if (out) process.stdout.write(`${out}\n`);
        if (stderr.trim()) process.stdout.write(`${stderr.trimEnd()}\n`);
      }
      resolve({ code, stdout, stderr });
    });
  });
}

const hookguard = (args: string[], opts: Parameters<typeof run>[2] = {}) =>
  run(process.execPath, [join(ROOT, "bin/hookguard.js"), ...args], opts);
const kubectl = (args: string[], opts: Parameters<typeof run>[2] = {}) =>
  run("kubectl", ["--cache-dir", join(work, "kube-cache"), ...args], opts);

/** The chart's stored-files Service, with Endpoints pointed at the agent's local port. */
function resultsServiceYaml(port: number): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: hookguard
---
apiVersion: v1
kind: Service
metadata:
  name: hookguard-agent-results
  namespace: hookguard
  labels:
    app.kubernetes.io/name: hookguard
    app.kubernetes.io/component: agent-results
spec:
  ports:
    - name: https-results
      port: 8443
      targetPort: results
---
apiVersion: v1
kind: Endpoints
metadata:
  name: hookguard-agent-results
  namespace: hookguard
subsets:
  - addresses: [{ ip: 127.0.0.1 }]
    ports: [{ name: https-results, port: ${port} }]
`;
}

/** Starts the Velero-server double (test/velero) and resolves once it serves. */
function startVelero(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/velero/main.ts"), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let out = "";
    // its server log keeps coming: keep the tail, for the message if it dies
    const keep = (d: Buffer): void => void (out = (out + d.toString()).slice(-8000));
    child.stdout!.on("data", (d: Buffer) => {
      keep(d);
      if (out.includes("Server started successfully")) resolve(child);
    });
    child.stderr!.on("data", keep);
    child.on("exit", (code) => reject(new Error(`the Velero double exited (${code}):\n${out.slice(-2000)}`)));
  });
}

/** Starts a long-running hookguard process and resolves when its log says `ready`. */
function startProcess(args: string[], ready: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin/hookguard.js"), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    children.push(child);
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes(ready)) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`hookguard ${args[0]} exited (${code}):\n${err}`)));
  });
}

say("Starting the sandbox API server (the test double: a stand-in for a real cluster, not one)");
mkdirSync(join(work, "cluster"));
const api = await startApiServer({ namespaces: ["demo"], dir: join(work, "cluster") });
const kubeconfig = api.kubeconfigPath;
console.log(`KUBECONFIG=${kubeconfig}`);

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(
    children.map(
      (c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once("exit", r))),
    ),
  );
  await api.stop();
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  say("Starting the admission webhook and registering the chart's own webhook configurations");
  const [whPort, whMetrics, agentMetrics, agentResults] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const certDir = join(work, "certs");
  await startProcess(
    [
      "webhook",
      "--host",
      "127.0.0.1",
      "--port",
      String(whPort),
      "--metrics-port",
      String(whMetrics),
      "--cert-dir",
      certDir,
      "--kubeconfig",
      kubeconfig,
    ],
    "serving /validate",
  );
  // the chart's Validating/MutatingWebhookConfigurations (helm template), re-pointed at this webhook:
  // the demo exercises exactly the rules and selectors an install registers
  const configs = await webhookConfigurationsYaml({
    url: `https://127.0.0.1:${whPort}`,
    caPem: readFileSync(join(certDir, "ca.crt"), "utf8"),
  });
  process.stdout.write(
    `$ npm run -s dev:webhook-configs -- --url https://127.0.0.1:${whPort} --ca-file ${join(certDir, "ca.crt")} | kubectl apply -f -\n`,
  );
  const applied = await kubectl(["apply", "-f", "-"], { stdin: configs, quiet: true });
  if (applied.code !== 0)
    throw new Error(`registering the chart's webhook configurations failed:\n${applied.stderr}`);
  await kubectl(["get", "validatingwebhookconfigurations,mutatingwebhookconfigurations"]);

  say("Starting the hook agent (standalone mode: no Velero in this cluster yet)");
  const storageDir = join(work, "hookguard-data");
  const standaloneAgent = await startProcess(
    [
      "agent",
      "--mode",
      "standalone",
      "--kubeconfig",
      kubeconfig,
      "--no-leader-elect",
      "--metrics-bind-address",
      "127.0.0.1",
      "--metrics-port",
      String(agentMetrics),
      "--storage-dir",
      storageDir,
      "--results-port",
      String(agentResults),
      "--volume-snapshot-class",
      "csi-snapclass",
    ],
    "hookguard agent started",
  );

  // what the chart installs for the agent's stored files, and what an endpoints controller would
  // write: the CLI reads them through the API server's service proxy, no storage dir needed
  await kubectl(["apply", "-f", "-"], {
    stdin: resultsServiceYaml(agentResults),
  });

  say("kubectl refuses a broken manifest with the webhook's message");
  await kubectl(["apply", "-f", "examples/broken/on-error-lowercase.yaml"]);

  say("Applying the nginx fsfreeze example (examples/nginx-fsfreeze.yaml)");
  await kubectl(["apply", "-f", "examples/nginx-fsfreeze.yaml"]);
  // The sandbox runs no controller-manager or volume provisioner: create what they would.
  const docs = parseAllDocuments(readFileSync(join(ROOT, "examples/nginx-fsfreeze.yaml"), "utf8")).map((d) =>
    d.toJSON(),
  );
  const template = docs.find((d) => d.kind === "Deployment").spec.template;
  api.createObject({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "pv-nginx-logs" },
    spec: {
      capacity: { storage: "50Mi" },
      accessModes: ["ReadWriteOnce"],
      claimRef: { namespace: "nginx-example", name: "nginx-logs" },
    },
    status: { phase: "Bound" },
  });
  await kubectl(
    [
      "patch",
      "pvc",
      "nginx-logs",
      "-n",
      "nginx-example",
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { volumeName: "pv-nginx-logs" } }),
    ],
    { quiet: true },
  );
  api.setStatus("v1", "PersistentVolumeClaim", "nginx-example", "nginx-logs", { phase: "Bound" });
  api.createObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...template.metadata, name: "nginx-deployment-demo1", namespace: "nginx-example" },
    spec: template.spec,
  });
  for (
    let i = 0;
    i < 200 &&
    api.getObject("v1", "Pod", "nginx-example", "nginx-deployment-demo1")?.status?.phase !== "Running";
    i++
  )
    await new Promise((r) => setTimeout(r, 50));
  await kubectl(["get", "pods,pvc", "-n", "nginx-example"]);

  say("Backing up: pre hook (fsfreeze --freeze), items + VolumeSnapshot, post hook (fsfreeze --unfreeze)");
  await hookguard(["backup", "create", "nginx-hook-test", "--include-namespaces", "nginx-example", "--wait"]);
  await kubectl(["get", "volumesnapshots", "-n", "nginx-example"]);
  say("hookguard backup describe nginx-hook-test");
  await hookguard(["backup", "describe", "nginx-hook-test"]);
  say("hookguard backup logs nginx-hook-test | grep hookCommand");
  await hookguard(["backup", "logs", "nginx-hook-test"], {
    filter: (l) => l.includes("hookCommand"),
    shownPipe: "grep hookCommand",
  });
  await hookguard(["backup", "download", "nginx-hook-test", "-o", join(work, "nginx-hook-test.tar.gz")]);

  say(
    "Beside Velero: stopping the standalone agent, starting Velero (the Velero-server double, a stand-in) and the agent in companion mode",
  );
  // standalone never runs where a Velero server runs; the companion reports the hooks Velero runs
  standaloneAgent.kill("SIGTERM");
  await new Promise((r) =>
    standaloneAgent.exitCode !== null || standaloneAgent.signalCode !== null
      ? r(null)
      : standaloneAgent.once("exit", r),
  );
  const bucket = join(work, "velero-bucket");
  process.stdout.write(`$ npm run dev:velero -- --kubeconfig ${kubeconfig} --store-dir ${bucket} &\n`);
  await startVelero(["--kubeconfig", kubeconfig, "--store-dir", bucket]);
  // the companion trusts the object store's CA for Velero's download URLs, as the velero CLI does
  const caFile = join(work, "bsl-ca.pem");
  const bsl = await kubectl(
    [
      "get",
      "backupstoragelocation",
      "default",
      "-n",
      "velero",
      "-o",
      "jsonpath={.spec.objectStorage.caCert}",
    ],
    { quiet: true },
  );
  writeFileSync(caFile, Buffer.from(bsl.stdout, "base64"));
  process.stdout.write(
    `$ kubectl get backupstoragelocation default -n velero -o jsonpath='{.spec.objectStorage.caCert}' | base64 -d > ${caFile}\n`,
  );
  const companionMetrics = await freePort();
  const companionArgs = [
    "agent",
    "--mode",
    "companion",
    "--kubeconfig",
    kubeconfig,
    "--no-leader-elect",
    "--metrics-bind-address",
    "127.0.0.1",
    "--metrics-port",
    String(companionMetrics),
    "--download-ca-file",
    caFile,
  ];
  process.stdout.write(`$ npx hookguard ${companionArgs.join(" ")} &\n`);
  await startProcess(companionArgs, "companion: observing Velero's Backups");

  say("Velero runs a backup of nginx-example and its hooks; hookguard reads them from Velero's log");
  await hookguard(["backup", "create", "nginx-velero", "--include-namespaces", "nginx-example", "--wait"]);
  await hookguard(["backup", "get"]);
  say("hookguard backup describe nginx-velero (no storage dir: Velero's log, through a DownloadRequest)");
  await hookguard(["backup", "describe", "nginx-velero"]);
  say("The companion's metrics for that backup");
  const metricsUrl = `http://127.0.0.1:${companionMetrics}/metrics`;
  for (let i = 0; i < 200; i++) {
    const text = await fetch(metricsUrl).then((r) => r.text());
    if (/^hookguard_backups_total\{phase="[A-Za-z]+"\} [1-9]/m.test(text)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await run("curl", ["-s", metricsUrl], {
    filter: (l) => /^hookguard_(hook_executions_total|backups_total|velero_backup_hooks)/.test(l),
    shownPipe: "grep -E '^hookguard_(hook_executions_total|backups_total|velero_backup_hooks)'",
  });

  say(`Ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  console.log(`Agent metrics:   http://127.0.0.1:${companionMetrics}/metrics (companion)`);
  console.log(`Webhook metrics: http://127.0.0.1:${whMetrics}/metrics`);
  console.log(`Archive, logs:   ${storageDir}/nginx-hook-test/`);
  console.log(`Try it:  export KUBECONFIG=${kubeconfig}`);
  console.log(
    `         kubectl get backups -n velero;  npx hookguard backup plan --include-namespaces nginx-example`,
  );
  console.log(`KUBECONFIG=${kubeconfig}`);
  console.log("Running until Ctrl-C.");
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`);
  await shutdown(1);
}
