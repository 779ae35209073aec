// The flags of `npm run dev:velero` (Velero's own names where Velero has the flag).
import { parseArgs } from "node:util";
import { parseGoDuration } from "./go-format.js";
import { VERSION_NAMES, versionByName } from "./versions.js";

export const USAGE = `usage: npm run dev:velero -- --kubeconfig PATH [--namespace velero] [--version ${VERSION_NAMES.join("|")}]
       [--log-format text|json] [--hold-items DURATION] [--store-dir DIR] [--store-validation-frequency 1m]
       [--download-url-ttl 10m] [--reschedule]`;

export interface ParsedFlags {
  kubeconfig: string;
  namespace: string;
  version: string;
  logFormat: "text" | "json";
  holdItemsMs: number;
  storeDir?: string;
  storeValidationMs: number;
  downloadUrlTtlMs: number;
  reschedule: boolean;
}

function durationMs(flag: string, v: string): number {
  const d = parseGoDuration(v);
  if (!d.ok || d.ns < 0)
    throw new Error(`--${flag} ${JSON.stringify(v)}: not a non-negative Go duration (e.g. 30s, 1m)`);
  return d.ns / 1e6;
}

export function parseFlags(argv: string[]): ParsedFlags {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: "string" },
      namespace: { type: "string", default: "velero" },
      version: { type: "string", default: "1.18" },
      "log-format": { type: "string", default: "text" },
      "hold-items": { type: "string", default: "0s" },
      "store-dir": { type: "string" },
      "store-validation-frequency": { type: "string", default: "1m" },
      "download-url-ttl": { type: "string", default: "10m" },
      reschedule: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.kubeconfig) throw new Error("--kubeconfig is required");
  if (!versionByName(values.version!))
    throw new Error(`--version ${JSON.stringify(values.version)}: one of ${VERSION_NAMES.join(", ")}`);
  if (values["log-format"] !== "text" && values["log-format"] !== "json")
    throw new Error(`--log-format ${JSON.stringify(values["log-format"])}: text or json`);
  return {
    kubeconfig: values.kubeconfig,
    namespace: values.namespace!,
    version: values.version!,
    logFormat: values["log-format"],
    holdItemsMs: durationMs("hold-items", values["hold-items"]!),
    storeDir: values["store-dir"],
    storeValidationMs: durationMs("store-validation-frequency", values["store-validation-frequency"]!),
    downloadUrlTtlMs: durationMs("download-url-ttl", values["download-url-ttl"]!),
    reschedule: values.reschedule!,
  };
}
