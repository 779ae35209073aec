// `hookguard probe`: sends two AdmissionReviews to a running webhook (the chart's `helm test` runs it
// through the Service) and checks the answers: the README's broken example is denied, the same Pod
// without hooks is allowed. Exit 0 when both hold, 1 otherwise. No shell, no curl: the image's own CLI.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { Command, InvalidArgumentError } from "commander";
import { exampleReview } from "../admission/example.js";

interface ReviewAnswer {
  allowed: boolean;
  message: string;
}

function post(url: URL, body: object, ca: string | undefined, timeoutMs: number): Promise<ReviewAnswer> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        ...(ca ? { ca } : {}),
        timeout: timeoutMs,
        minVersion: "TLSv1.2",
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          try {
            const response = (
              JSON.parse(text) as { response?: { allowed?: unknown; status?: { message?: string } } }
            ).response;
            if (typeof response?.allowed !== "boolean")
              return reject(new Error(`HTTP ${res.statusCode}: not an AdmissionReview response`));
            resolve({ allowed: response.allowed, message: response.status?.message ?? "" });
          } catch {
            reject(new Error(`HTTP ${res.statusCode}: the body is not JSON`));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** The README's example Pod, with its hook annotations removed: nothing for the webhook to refuse. */
function cleanReview(): object {
  const review = exampleReview("8b8c6a39-5f0e-4e0c-9a53-1d2f4a6f0c11") as {
    request: { object: { metadata: Record<string, unknown> } };
  };
  delete review.request.object.metadata.annotations;
  return review;
}

export function registerProbeCommand(program: Command): void {
  program
    .command("probe")
    .description(
      "Send a broken and a clean AdmissionReview to a running webhook and check it denies and allows them",
    )
    .requiredOption("--url <url>", "webhook base URL, e.g. https://hookguard-webhook.hookguard.svc:443")
    .option("--ca-file <path>", "PEM CA that signed the webhook's certificate (default: the system's)")
    .option(
      "--timeout <seconds>",
      "per request",
      (v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0)
          throw new InvalidArgumentError(`expected a positive number of seconds, got ${JSON.stringify(v)}.`);
        return n;
      },
      10,
    )
    .action(async (opts: { url: string; caFile?: string; timeout: number }) => {
      let base: URL;
      try {
        base = new URL(opts.url);
      } catch {
        throw new Error(`--url ${JSON.stringify(opts.url)} is not a URL`);
      }
      if (base.protocol !== "https:")
        throw new Error("--url must be https: the API server only calls webhooks over TLS");
      const ca = opts.caFile ? readFileSync(opts.caFile, "utf8") : undefined;
      const validate = new URL("validate", base.href.endsWith("/") ? base.href : `${base.href}/`);
      const ms = opts.timeout * 1000;
      let failed = false;
      const broken = await post(validate, exampleReview(), ca, ms);
      if (broken.allowed) {
        failed = true;
        console.log(`FAIL broken hook allowed by ${validate.href}`);
      } else console.log(`ok   broken hook denied: ${broken.message}`);
      const clean = await post(validate, cleanReview(), ca, ms);
      if (!clean.allowed) {
        failed = true;
        console.log(`FAIL pod without hooks denied: ${clean.message}`);
      } else console.log("ok   pod without hooks allowed");
      process.exitCode = failed ? 1 : 0;
    });
}
