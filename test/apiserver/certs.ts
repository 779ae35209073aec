// The double's own CA and a serving certificate for 127.0.0.1/localhost. Reuses the product's
// node-forge generator (src/tls) so there is one certificate code path to trust.
import { generateBundle, type CertBundle } from "../../src/tls/generate.js";

export type ServerCerts = CertBundle;

export function makeServerCerts(): ServerCerts {
  return generateBundle({
    dnsNames: ["localhost", "kubernetes.default.svc"],
    ipAddresses: ["127.0.0.1"],
    validDays: 30,
  });
}
