// `npm run -s dev:webhook-configs -- --url https://127.0.0.1:9443 --ca-file certs/ca.crt | kubectl apply -f -`
// prints the chart's own Validating/MutatingWebhookConfigurations, re-pointed at a webhook running
// outside a cluster (clientConfig.url plus that webhook's CA), for the sandbox API server
// (`npm run dev:cluster`). The e2e tests register the same YAML the same way.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { stringify } from "yaml";
import { renderWebhookConfigurations, type LocalWebhookTarget } from "../chart/render.js";

/** The chart's webhook configurations for `target` (rendered with `values`), as one multi-document YAML stream. */
export async function webhookConfigurationsYaml(
  target: LocalWebhookTarget,
  values: object = {},
): Promise<string> {
  const configs = await renderWebhookConfigurations(target, values);
  return configs.map((c) => stringify(c)).join("---\n");
}

const USAGE =
  "usage: npm run -s dev:webhook-configs -- --url https://HOST:PORT --ca-file PATH (the webhook's ca.crt)";

async function main(argv: string[]): Promise<number> {
  let values: { url?: string; "ca-file"?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { url: { type: "string" }, "ca-file": { type: "string" } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const url = values.url;
  const caFile = values["ca-file"];
  if (!url || !caFile || !/^https:\/\/[^/]+$/.test(url)) {
    process.stderr.write(
      `${USAGE}\n(--url is the webhook's base URL, https and no path: the chart's /validate and /mutate are appended)\n`,
    );
    return 2;
  }
  let caPem: string;
  try {
    caPem = readFileSync(caFile, "utf8");
  } catch (err) {
    process.stderr.write(`cannot read --ca-file ${caFile}: ${(err as Error).message}\n`);
    return 2;
  }
  if (!caPem.includes("-----BEGIN CERTIFICATE-----")) {
    process.stderr.write(`--ca-file ${caFile} holds no PEM certificate\n`);
    return 2;
  }
  process.stdout.write(await webhookConfigurationsYaml({ url, caPem }));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
