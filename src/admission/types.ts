// AdmissionReview wire types (admission.k8s.io/v1; v1beta1 has the same shape), with the JSON field
// names and the upstream doc comments (k8s.io/api/admission/v1/types.go), trimmed.

export const ADMISSION_V1 = "admission.k8s.io/v1";
export const ADMISSION_V1BETA1 = "admission.k8s.io/v1beta1";
export type AdmissionApiVersion = typeof ADMISSION_V1 | typeof ADMISSION_V1BETA1;

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}
export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

/** UserInfo holds the information about the user needed to implement the user.Info interface. */
export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** AdmissionRequest describes the admission.Attributes for the admission request. */
export interface AdmissionRequest {
  /** An identifier for the individual request/response; copied to the response. */
  uid: string;
  /** The fully-qualified type of object being submitted (for example, v1.Pod or autoscaling.v1.Scale). */
  kind: GroupVersionKind;
  /** The fully-qualified resource being requested (for example, v1.pods). */
  resource: GroupVersionResource;
  /** The subresource being requested, if any (for example, "status" or "scale"). */
  subResource?: string;
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  /** The name of the object as presented in the request; empty on CREATE with generateName. */
  name?: string;
  /** The namespace associated with the request (if any). */
  namespace?: string;
  operation: Operation;
  /** Information about the requesting user. */
  userInfo: UserInfo;
  /** The object from the incoming request (absent for DELETE). */
  object?: unknown;
  /** The existing object (UPDATE and DELETE only). */
  oldObject?: unknown;
  /** Modifications will definitely not be persisted for this request. */
  dryRun?: boolean;
  /** The operation option structure (CreateOptions, UpdateOptions, ...). */
  options?: unknown;
}

export interface Status {
  code?: number;
  reason?: string;
  message?: string;
}

/** AdmissionResponse describes an admission response. */
export interface AdmissionResponse {
  /** Must equal the request uid. */
  uid: string;
  allowed: boolean;
  /** The result contains extra details into why an admission request was denied (JSON name `status`). */
  status?: Status;
  /** base64 of a JSON Patch (RFC 6902) array. */
  patch?: string;
  patchType?: "JSONPatch";
  /** Warning messages returned to the client; the API server caps each at 256 characters and all at 4096. */
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: AdmissionApiVersion;
  kind: "AdmissionReview";
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** One RFC 6902 operation; hookguard only adds and replaces. */
export interface PatchOperation {
  op: "add" | "replace";
  path: string;
  value: unknown;
}
