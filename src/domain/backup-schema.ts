// JSON Schema for velero.io/v1 Backup `spec.hooks` (and Schedule `spec.template.hooks`), following
// config/crd/v1/bases/velero.io_backups.yaml. additionalProperties is false so that fields the API
// server would prune silently (e.g. restore-only execTimeout) are reported.
const stringList = { type: ["array", "null"], items: { type: "string" } } as const;

export const backupHooksSchema = {
  $id: "https://hookguard.dev/schemas/backup-hooks.json",
  type: "object",
  additionalProperties: false,
  properties: {
    resources: { type: ["array", "null"], items: { $ref: "#/$defs/resource" } },
  },
  $defs: {
    resource: {
      type: "object",
      required: ["name"],
      additionalProperties: false,
      properties: {
        name: { type: "string" },
        includedNamespaces: stringList,
        excludedNamespaces: stringList,
        includedResources: stringList,
        excludedResources: stringList,
        labelSelector: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: {
            matchLabels: { type: ["object", "null"], additionalProperties: { type: "string" } },
            matchExpressions: {
              type: ["array", "null"],
              items: {
                type: "object",
                required: ["key", "operator"],
                additionalProperties: false,
                properties: { key: { type: "string" }, operator: { type: "string" }, values: stringList },
              },
            },
          },
        },
        pre: { $ref: "#/$defs/hookList" },
        post: { $ref: "#/$defs/hookList" },
      },
    },
    hookList: {
      type: ["array", "null"],
      items: {
        type: "object",
        required: ["exec"],
        additionalProperties: false,
        properties: { exec: { $ref: "#/$defs/exec" } },
      },
    },
    exec: {
      type: "object",
      required: ["command"],
      additionalProperties: false,
      properties: {
        container: { type: "string" },
        command: { type: "array", minItems: 1, items: { type: "string" } },
        onError: { type: "string", enum: ["Continue", "Fail"] },
        timeout: { type: "string" },
      },
    },
  },
} as const;
