// Managed-certificate planning, pure: given what the Secret holds (if anything) and the time, decide
// the certificates it should hold. The Kubernetes side (src/kube/cert-store.ts) stores the result.
//
// Lifetimes: CA 10 years, serving 1 year. The serving certificate is renewed 90 days before expiry.
// The CA is renewed once it could no longer sign a full-year serving certificate that is itself
// renewed on time (i.e. less than 1 year + 90 days left), so a serving certificate never outlives
// its CA. After a CA rotation the old CA stays in ca.crt (the caBundle) until it expires, so
// clients holding the old bundle or replicas still serving the old pair keep working in the overlap.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { generateCa, generateServing, type PemPair } from "./generate.js";

export interface ManagedCerts {
  /** PEM CA certificates: the signing CA first, then older CAs kept for the overlap. */
  caCerts: string[];
  caKey: string;
  tlsCert: string;
  tlsKey: string;
}

export interface PlanOptions {
  now: Date;
  dnsNames: string[];
  caValidDays?: number;
  servingValidDays?: number;
  renewBeforeDays?: number;
}

export interface Plan {
  changed: boolean;
  reason: string;
  certs: ManagedCerts;
}

const DAY_MS = 86_400_000;

/** Splits concatenated PEM certificates. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----(?:\r?\n)?/g) ?? [];
}

export function planCerts(current: ManagedCerts | undefined, opts: PlanOptions): Plan {
  const renewMs = (opts.renewBeforeDays ?? 90) * DAY_MS;
  const servingDays = opts.servingValidDays ?? 365;
  const now = opts.now.getTime();
  const wanted = new Set(["localhost", ...opts.dnsNames]);
  const parsed = current ? parse(current) : undefined;
  if (!current || !parsed)
    return fresh(
      opts,
      current ? "the stored certificates do not parse; replacing them" : "no certificates stored yet",
    );

  let { caCerts, caKey } = current;
  let reason = "";
  const caLeft = parsed.ca.validToMs - now;
  if (caLeft < servingDays * DAY_MS + renewMs) {
    const ca = generateCa(undefined, opts.caValidDays ?? 3650, opts.now);
    caCerts = [ca.certPem, ...caCerts];
    caKey = ca.keyPem;
    reason = "CA renewed before expiry (old CA kept in the bundle)";
  }
  // Expired CAs leave the bundle; the signing CA is always kept.
  const kept = caCerts.filter(
    (pem, i) => i === 0 || new Date(new X509Certificate(pem).validTo).getTime() > now,
  );
  if (kept.length !== caCerts.length && !reason) reason = "expired CA removed from the bundle";
  caCerts = kept;

  const signer = new X509Certificate(caCerts[0]!);
  const leaf = parsed.leaf;
  const sans = new Set(
    (leaf.subjectAltName ?? "")
      .split(", ")
      .filter((s) => s.startsWith("DNS:"))
      .map((s) => s.slice(4)),
  );
  const sanMismatch = [...wanted].some((n) => !sans.has(n));
  const leafExpiring = new Date(leaf.validTo).getTime() - now < renewMs;
  const wrongIssuer = !leaf.checkIssued(signer) || !leaf.verify(signer.publicKey);
  let { tlsCert, tlsKey } = current;
  if (leafExpiring || wrongIssuer || sanMismatch) {
    const serving = generateServing(
      { certPem: caCerts[0]!, keyPem: caKey },
      { dnsNames: opts.dnsNames, validDays: servingDays, now: opts.now },
    );
    tlsCert = serving.certPem;
    tlsKey = serving.keyPem;
    reason ||= leafExpiring
      ? "serving certificate renewed 90 days before expiry"
      : wrongIssuer
        ? "serving certificate re-issued by the current CA"
        : "serving certificate re-issued for changed DNS names";
  }
  const certs = { caCerts, caKey, tlsCert, tlsKey };
  return { changed: reason !== "", reason: reason || "certificates are current", certs };
}

function fresh(opts: PlanOptions, reason: string): Plan {
  const ca: PemPair = generateCa(undefined, opts.caValidDays ?? 3650, opts.now);
  const serving = generateServing(ca, {
    dnsNames: opts.dnsNames,
    validDays: opts.servingValidDays ?? 365,
    now: opts.now,
  });
  return {
    changed: true,
    reason,
    certs: { caCerts: [ca.certPem], caKey: ca.keyPem, tlsCert: serving.certPem, tlsKey: serving.keyPem },
  };
}

function parse(c: ManagedCerts): { ca: { validToMs: number }; leaf: X509Certificate } | undefined {
  try {
    if (c.caCerts.length === 0) return undefined;
    const ca = new X509Certificate(c.caCerts[0]!);
    const leaf = new X509Certificate(c.tlsCert);
    // The keys must match their certificates, or the stored state is unusable.
    if (!ca.checkPrivateKey(createPrivateKey(c.caKey)) || !leaf.checkPrivateKey(createPrivateKey(c.tlsKey)))
      return undefined;
    return { ca: { validToMs: new Date(ca.validTo).getTime() }, leaf };
  } catch {
    return undefined;
  }
}

/** Secret data keys (values are PEM; the Secret stores them base64 as usual). */
export function toSecretData(c: ManagedCerts): Record<string, string> {
  return { "ca.crt": c.caCerts.join(""), "ca.key": c.caKey, "tls.crt": c.tlsCert, "tls.key": c.tlsKey };
}

export function fromSecretData(data: Record<string, string> | undefined): ManagedCerts | undefined {
  if (!data?.["ca.crt"] || !data["ca.key"] || !data["tls.crt"] || !data["tls.key"]) return undefined;
  return {
    caCerts: splitPem(data["ca.crt"]),
    caKey: data["ca.key"],
    tlsCert: data["tls.crt"],
    tlsKey: data["tls.key"],
  };
}
