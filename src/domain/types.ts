// The vocabulary shared by the webhook, the linter and the agent. Pure data: no I/O anywhere in
// src/domain (no express, no client-node, no fs, no logger).

export type Severity = "error" | "warning";

/**
 * One problem with a hook definition. `path` is the field path in the object as the user wrote it,
 * e.g. `metadata.annotations["pre.hook.backup.velero.io/timeout"]` or
 * `spec.hooks.resources[0].pre[1].exec.timeout`. `message` names the bad value and the fix.
 * `code` is a stable machine-readable identifier (e.g. "on-error-case", "timeout-invalid").
 */
export interface Finding {
  severity: Severity;
  path: string;
  message: string;
  code: string;
}

export type Phase = "pre" | "post";
export type OnError = "Fail" | "Continue";
export type HookSource = "annotation" | "spec";

/** Minimal structural types for what the domain reads. Real API objects fit them. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  resourceVersion?: string;
}
export interface ContainerLike {
  name: string;
  image?: string;
  command?: string[];
  restartPolicy?: string;
  securityContext?: { privileged?: boolean; capabilities?: { add?: string[] } };
  env?: Array<{ name: string; value?: string }>;
}
export interface PodSpecLike {
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
}
export interface PodLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: PodSpecLike;
  status?: { phase?: string; containerStatuses?: Array<{ name: string; state?: { running?: unknown } }> };
}

/** The raw annotation values of one phase, as written (undefined = key absent). */
export interface RawAnnotationHook {
  container?: string;
  command?: string;
  onError?: string;
  timeout?: string;
}

/**
 * One exec hook, effective values resolved (what the agent runs), plus what was written (what the
 * mutating webhook and the tracker need).
 */
export interface ExecHook {
  phase: Phase;
  source: HookSource;
  /** Spec hook: the resource entry's `name`. Annotation hook: "" (logs show `<from-annotation>`). */
  name: string;
  /** Spec hook: index inside its pre/post list; annotation hook: 0. Part of the tracker key. */
  index: number;
  /** Spec hook: index of the `resources[]` entry; annotation hook: -1. */
  resourceIndex: number;
  /** Container as written; "" when omitted (Velero's tracker key uses this). */
  containerAsWritten: string;
  /** Effective container: as written, or the pod's first container when omitted ("" if none known). */
  container: string;
  argv: string[];
  /** Effective on-error: as written when valid, otherwise "Fail" (hookguard's documented choice). */
  onError: OnError;
  /** Whether on-error was written with a valid value. */
  onErrorExplicit: boolean;
  /** Effective timeout in ms: 30000 when unset, 0, negative or unparsable. */
  timeoutMs: number;
  /** Annotation hooks: whether the legacy `hook.backup.velero.io/*` keys were used. */
  legacy: boolean;
  /**
   * Error findings that make this hook unsafe to run as written (malformed JSON command, `[]`,
   * missing container, empty name...). The agent records such a hook as failed without exec.
   */
  blockers: Finding[];
  /** Recoverable findings (e.g. bad timeout that falls back to 30s): recorded as warnings. */
  warnings: Finding[];
}

export interface PodHooksResult {
  pre?: ExecHook;
  post?: ExecHook;
  /** Raw values per phase (absent keys omitted), for normalisation. */
  raw: { pre: RawAnnotationHook; post: RawAnnotationHook; legacy: RawAnnotationHook };
  findings: Finding[];
}

export type LabelSelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** One `spec.hooks.resources[]` entry, typed. */
export interface ResourceHookSpec {
  name: string;
  index: number;
  includedNamespaces: string[];
  excludedNamespaces: string[];
  includedResources: string[];
  excludedResources: string[];
  labelSelector?: LabelSelector;
  /** Hooks as written in the spec; container "" means the pod's first container. */
  pre: ExecHook[];
  post: ExecHook[];
}

export interface BackupHooksResult {
  resources: ResourceHookSpec[];
  findings: Finding[];
}

/** Result type for operations that can fail on bad input (never thrown strings). */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

/** A PersistentVolumeClaim as far as ItemBlock grouping needs it. */
export interface PvcLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { volumeName?: string; accessModes?: string[]; storageClassName?: string };
  status?: { phase?: string };
}
/** A PersistentVolume as far as ItemBlock grouping needs it. */
export interface PvLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { claimRef?: { namespace?: string; name?: string } };
}

export type ItemResource = "pods" | "persistentvolumeclaims" | "persistentvolumes";
/** One item of a block, in Velero's archive vocabulary (`resources/<resource>/namespaces/<ns>/<name>.json`). */
export interface BlockItem {
  resource: ItemResource;
  /** undefined for cluster-scoped items (PVs) */
  namespace?: string;
  name: string;
  object: PodLike | PvcLike | PvLike;
}
/**
 * Items that are backed up together: a pod, its PVCs and their PVs; pods sharing a PVC land in one
 * block. `pods` lists the block's pods in block order (the order hooks run in).
 */
export interface ItemBlock {
  items: BlockItem[];
  pods: PodLike[];
}
