// The example printed at startup (and used by the README): a Pod whose pre hook says
// `on-error: continue`. Velero only honours the exact strings Fail and Continue, so this value is
// silently ignored and the hook behaves as Continue; hookguard refuses it with the reason.
export function exampleReview(uid = "705ab4f5-6393-11e8-b7cc-42010a800002"): object {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      requestKind: { group: "", version: "v1", kind: "Pod" },
      requestResource: { group: "", version: "v1", resource: "pods" },
      name: "db-0",
      namespace: "shop",
      operation: "CREATE",
      userInfo: { username: "alice", groups: ["system:authenticated"] },
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: "db-0",
          namespace: "shop",
          annotations: {
            "pre.hook.backup.velero.io/container": "db",
            "pre.hook.backup.velero.io/command": '["/sbin/fsfreeze","--freeze","/var/lib/db"]',
            "pre.hook.backup.velero.io/on-error": "continue",
          },
        },
        spec: { containers: [{ name: "db", image: "postgres:16" }] },
      },
      oldObject: null,
      dryRun: false,
      options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1" },
    },
  };
}

/** The ready-to-paste command: POSTs the example to /validate, trusting the dev CA. */
export function exampleCurl(opts: { port: number; caFile?: string; path?: "validate" | "mutate" }): string {
  const trust = opts.caFile ? `--cacert ${opts.caFile}` : "--insecure";
  return [
    `curl ${trust} -H 'Content-Type: application/json' --data @- https://localhost:${opts.port}/${opts.path ?? "validate"} <<'EOF'`,
    JSON.stringify(exampleReview(), null, 2),
    "EOF",
  ].join("\n");
}
