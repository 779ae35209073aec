// The resources the webhook handles, keyed by the AdmissionRequest's kind (group/version/kind): the
// domain's table of hook-carrying kinds (src/domain/kinds.ts) at the version the chart registers.
// Which objects carry hooks and how they are validated is the domain's business; this only routes.
import { HOOKED_KINDS, preferredApiVersion, type HookedKind } from "../domain/index.js";
import type { GroupVersionKind } from "./types.js";

export interface KindInfo {
  kind: string;
  /** apiVersion as it appears in the object (`v1` for the core group). */
  apiVersion: string;
  /** Pods and pod templates get annotation hooks (and mutation); Backup/Schedule carry spec.hooks. */
  hooks: HookedKind["hooks"];
  /** annotations: the steps to the pod template; spec: the steps to the Backup spec holding hooks. */
  path: readonly string[];
}

const TABLE: KindInfo[] = HOOKED_KINDS.map((k) => ({
  kind: k.kind,
  apiVersion: preferredApiVersion(k),
  hooks: k.hooks,
  path: k.path,
}));
const BY_KEY = new Map(TABLE.map((k) => [`${k.apiVersion}/${k.kind}`, k]));

export function apiVersionOf(gvk: GroupVersionKind): string {
  return gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
}

export function lookupKind(gvk: GroupVersionKind): KindInfo | undefined {
  return BY_KEY.get(`${apiVersionOf(gvk)}/${gvk.kind}`);
}

export function handledKindsText(): string {
  return TABLE.map((k) => `${k.apiVersion} ${k.kind}`).join(", ");
}
