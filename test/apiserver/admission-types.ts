// The seam between the REST handlers and admission: what is being admitted, and the two phases.
import type { UserInfo } from "./authn.js";
import type { ResourceDef } from "./resources.js";

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionAttributes {
  resource: ResourceDef;
  subresource: string;
  operation: Operation;
  name: string;
  namespace: string | undefined;
  object: any | null;
  oldObject: any | null;
  user: UserInfo;
  dryRun: boolean;
  options: any | null;
  /** The kind of `object` when it is not the resource's kind (PodExecOptions for pods/exec). */
  kind?: string;
  /** Webhook warnings are appended here as they arrive, so they reach the client even on a denial. */
  warningSink: string[];
}

export interface AdmissionChain {
  /** Mutating webhooks, in order; returns the (possibly patched) object. Throws ApiError to deny. */
  mutate(a: AdmissionAttributes): Promise<{ object: any }>;
  /** Validating webhooks (in parallel on a real server). Throws ApiError to deny. */
  validate(a: AdmissionAttributes): Promise<void>;
}

export const NO_ADMISSION: AdmissionChain = {
  mutate: async (a) => ({ object: a.object }),
  validate: async () => undefined,
};
