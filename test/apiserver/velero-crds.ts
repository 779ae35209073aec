// Velero's kinds as its CustomResourceDefinitions declare them (docs/velero-crds.md holds the same
// table in prose; test/apiserver-double/velero-crds.test.ts keeps the two and the double in step).
// Every kind is velero.io/v1, namespaced, with NO status subresource: status is written through the
// object itself. Schemas are structural without preserve-unknown-fields, so the server prunes
// unknown fields, and status.phase is an enum.

export interface VeleroCrd {
  kind: string;
  plural: string;
  /** The top-level fields of `status` the schema declares; anything else there is pruned. */
  statusFields: readonly string[];
  /** The values `status.phase` may take; any other is refused with 422 Invalid. */
  phases: readonly string[];
}

export const VELERO_CRDS: readonly VeleroCrd[] = [
  {
    kind: "BackupRepository",
    plural: "backuprepositories",
    statusFields: ["lastMaintenanceTime", "message", "phase", "recentMaintenance"],
    phases: ["New", "Ready", "NotReady"],
  },
  {
    kind: "Backup",
    plural: "backups",
    statusFields: [
      "backupItemOperationsAttempted",
      "backupItemOperationsCompleted",
      "backupItemOperationsFailed",
      "completionTimestamp",
      "csiVolumeSnapshotsAttempted",
      "csiVolumeSnapshotsCompleted",
      "errors",
      "expiration",
      "failureReason",
      "formatVersion",
      "hookStatus",
      "phase",
      "progress",
      "queuePosition",
      "startTimestamp",
      "validationErrors",
      "version",
      "volumeSnapshotsAttempted",
      "volumeSnapshotsCompleted",
      "warnings",
    ],
    phases: [
      "New",
      "Queued",
      "ReadyToStart",
      "FailedValidation",
      "InProgress",
      "WaitingForPluginOperations",
      "WaitingForPluginOperationsPartiallyFailed",
      "Finalizing",
      "FinalizingPartiallyFailed",
      "Completed",
      "PartiallyFailed",
      "Failed",
      "Deleting",
    ],
  },
  {
    kind: "BackupStorageLocation",
    plural: "backupstoragelocations",
    statusFields: [
      "accessMode",
      "lastSyncedRevision",
      "lastSyncedTime",
      "lastValidationTime",
      "message",
      "phase",
    ],
    phases: ["Available", "Unavailable"],
  },
  {
    kind: "DeleteBackupRequest",
    plural: "deletebackuprequests",
    statusFields: ["errors", "phase"],
    phases: ["New", "InProgress", "Processed"],
  },
  {
    kind: "DownloadRequest",
    plural: "downloadrequests",
    statusFields: ["downloadURL", "expiration", "phase"],
    phases: ["New", "Processed"],
  },
  {
    kind: "PodVolumeBackup",
    plural: "podvolumebackups",
    statusFields: [
      "acceptedTimestamp",
      "completionTimestamp",
      "incrementalBytes",
      "message",
      "path",
      "phase",
      "progress",
      "snapshotID",
      "startTimestamp",
    ],
    phases: ["New", "Accepted", "Prepared", "InProgress", "Canceling", "Canceled", "Completed", "Failed"],
  },
  {
    kind: "PodVolumeRestore",
    plural: "podvolumerestores",
    statusFields: [
      "acceptedTimestamp",
      "completionTimestamp",
      "message",
      "node",
      "phase",
      "progress",
      "startTimestamp",
    ],
    phases: ["New", "Accepted", "Prepared", "InProgress", "Canceling", "Canceled", "Completed", "Failed"],
  },
  {
    kind: "Restore",
    plural: "restores",
    statusFields: [
      "completionTimestamp",
      "errors",
      "failureReason",
      "hookStatus",
      "phase",
      "progress",
      "restoreItemOperationsAttempted",
      "restoreItemOperationsCompleted",
      "restoreItemOperationsFailed",
      "startTimestamp",
      "validationErrors",
      "warnings",
    ],
    phases: [
      "New",
      "FailedValidation",
      "InProgress",
      "WaitingForPluginOperations",
      "WaitingForPluginOperationsPartiallyFailed",
      "Completed",
      "PartiallyFailed",
      "Failed",
      "Finalizing",
      "FinalizingPartiallyFailed",
    ],
  },
  {
    kind: "Schedule",
    plural: "schedules",
    statusFields: ["lastBackup", "lastSkipped", "phase", "validationErrors"],
    phases: ["New", "Enabled", "FailedValidation"],
  },
  {
    kind: "ServerStatusRequest",
    plural: "serverstatusrequests",
    statusFields: ["phase", "plugins", "processedTimestamp", "serverVersion"],
    phases: ["New", "Processed"],
  },
  {
    kind: "VolumeSnapshotLocation",
    plural: "volumesnapshotlocations",
    statusFields: ["phase"],
    phases: ["Available", "Unavailable"],
  },
];
