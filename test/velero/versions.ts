// What changes between the Velero versions the double plays (`--version`): the backup queue (1.18),
// ItemBlocks and the hook lines losing their pod fields (1.15), the hook tracker's key (hook index
// from 1.17), v1.15.0's "post  hooks" typo, and the logSource line numbers of each release.

export type VersionName = "1.14" | "1.15.0" | "1.15" | "1.18";
export const VERSION_NAMES: VersionName[] = ["1.14", "1.15.0", "1.15", "1.18"];

export type SourceKey =
  | "tempFile"
  | "pluginManager"
  | "itemActions"
  | "itemBlockActions"
  | "storeCheck"
  | "versionFile"
  | "includingNs"
  | "excludingNs"
  | "collected"
  | "processingItem"
  | "itemBlock"
  | "backedUpEstimate"
  | "backedUpTotal"
  | "skippedPVs"
  | "doneItemBlocks"
  | "errorBackingUpItem"
  | "backingUpItem"
  | "alreadyBackedUp"
  | "preHooksFailed"
  | "postHooksFailed"
  | "runningHook"
  | "stdout"
  | "stderr"
  | "podPhaseSkip"
  | "annotationHookError"
  | "specHookError"
  | "timeoutParse";

export interface VeleroVersion {
  name: VersionName;
  /** What `velero version` reports as the server version. */
  serverVersion: string;
  /** 1.18: New -> Queued -> ReadyToStart before InProgress. */
  queue: boolean;
  /** 1.15+: pods sharing a PVC form one ItemBlock: all pre hooks, then items, then all post hooks. */
  itemBlocks: boolean;
  /** <= 1.14: hook lines carry name/namespace/resource of the pod. */
  hookLinesCarryPod: boolean;
  /** 1.17+: the hook tracker's key includes the hook's index in its spec list. */
  trackerKeyHasIndex: boolean;
  /** v1.15.0 only: `Error running post  hooks for pod` (two spaces). */
  postHooksDoubleSpace: boolean;
  src: Record<SourceKey, string>;
}

const EXEC = "pkg/podexec/pod_command_executor.go";
const HANDLER = "internal/hook/item_hook_handler.go";
const CTRL = "pkg/controller/backup_controller.go";
const BACKUP = "pkg/backup/backup.go";
const ITEM = "pkg/backup/item_backupper.go";

/** Lines shared by every release played here (the executor and hook handler did not move). */
const HOOK_LINES = {
  runningHook: `${EXEC}:133`,
  stdout: `${EXEC}:180`,
  stderr: `${EXEC}:181`,
  podPhaseSkip: `${EXEC}:129`,
  annotationHookError: `${HANDLER}:239`,
  specHookError: `${HANDLER}:288`,
  timeoutParse: `${HANDLER}:354`,
};

/** Where the executor's pkg/errors errors were created (error.file / error.function). */
export const EXEC_ERROR_ORIGINS = {
  hookNameRequired: 81,
  commandRequired: 103,
  timedOut: 177,
  noSuchContainer: 193,
  needContainer: 198,
};

function lines(
  ctrl: number[],
  backup: number[],
  item: number[],
  hooks: [number, number],
): Record<SourceKey, string> {
  const [tempFile, pluginManager, itemActions, itemBlockActions, storeCheck] = ctrl as [
    number,
    number,
    number,
    number,
    number,
  ];
  const [
    versionFile,
    includingNs,
    excludingNs,
    collected,
    processingItem,
    itemBlock,
    backedUpEstimate,
    backedUpTotal,
    skippedPVs,
    doneItemBlocks,
    errorBackingUpItem,
  ] = backup as number[];
  return {
    tempFile: `${CTRL}:${tempFile}`,
    pluginManager: `${CTRL}:${pluginManager}`,
    itemActions: `${CTRL}:${itemActions}`,
    itemBlockActions: `${CTRL}:${itemBlockActions}`,
    storeCheck: `${CTRL}:${storeCheck}`,
    versionFile: `${BACKUP}:${versionFile}`,
    includingNs: `${BACKUP}:${includingNs}`,
    excludingNs: `${BACKUP}:${excludingNs}`,
    collected: `${BACKUP}:${collected}`,
    processingItem: `${BACKUP}:${processingItem}`,
    itemBlock: `${BACKUP}:${itemBlock}`,
    backedUpEstimate: `${BACKUP}:${backedUpEstimate}`,
    backedUpTotal: `${BACKUP}:${backedUpTotal}`,
    skippedPVs: `${BACKUP}:${skippedPVs}`,
    doneItemBlocks: `${BACKUP}:${doneItemBlocks}`,
    errorBackingUpItem: `${BACKUP}:${errorBackingUpItem}`,
    alreadyBackedUp: `${ITEM}:${item[0]}`,
    backingUpItem: `${ITEM}:${item[1]}`,
    preHooksFailed: `${BACKUP}:${hooks[0]}`,
    postHooksFailed: `${BACKUP}:${hooks[1]}`,
    ...HOOK_LINES,
  };
}

export const VERSIONS: Record<VersionName, VeleroVersion> = {
  "1.14": {
    name: "1.14",
    serverVersion: "v1.14.1",
    queue: false,
    itemBlocks: false,
    hookLinesCarryPod: true,
    trackerKeyHasIndex: false,
    postHooksDoubleSpace: false,
    // No ItemBlocks: a failed pre hook is reported by backupItem as "Error backing up item".
    src: lines(
      [605, 612, 616, 0, 621],
      [231, 237, 238, 314, 412, 0, 452, 499, 495, 0, 517],
      [170, 175],
      [517, 517],
    ),
  },
  "1.15.0": {
    name: "1.15.0",
    serverVersion: "v1.15.0",
    queue: false,
    itemBlocks: true,
    hookLinesCarryPod: false,
    trackerKeyHasIndex: false,
    postHooksDoubleSpace: true,
    src: lines(
      [616, 623, 627, 632, 637],
      [238, 244, 245, 327, 439, 476, 499, 546, 542, 0, 730],
      [179, 184],
      [661, 682],
    ),
  },
  "1.15": {
    name: "1.15",
    serverVersion: "v1.15.2",
    queue: false,
    itemBlocks: true,
    hookLinesCarryPod: false,
    trackerKeyHasIndex: false,
    postHooksDoubleSpace: false,
    src: lines(
      [616, 623, 627, 632, 637],
      [239, 245, 246, 328, 440, 477, 500, 547, 543, 0, 798],
      [179, 184],
      [669, 739],
    ),
  },
  "1.18": {
    name: "1.18",
    serverVersion: "v1.18.1",
    queue: true,
    itemBlocks: true,
    hookLinesCarryPod: false,
    trackerKeyHasIndex: true,
    postHooksDoubleSpace: false,
    src: lines(
      [731, 738, 742, 747, 752],
      [272, 305, 306, 398, 575, 612, 560, 684, 680, 632, 935],
      [181, 186],
      [806, 874],
    ),
  },
};

export function versionByName(name: string): VeleroVersion | undefined {
  return (VERSIONS as Record<string, VeleroVersion>)[name];
}

/** The pkg/errors origin of an executor error: error.file (absolute build path) and error.function. */
export function execErrorOrigin(
  line: number,
  fn: "ExecutePodCommand" | "ensureContainerExists" | "setDefaultHookContainer",
): { file: string; function: string } {
  const pkg = "github.com/vmware-tanzu/velero/pkg/podexec";
  return {
    file: `/go/src/github.com/vmware-tanzu/velero/${EXEC}:${line}`,
    function:
      fn === "ExecutePodCommand" ? `${pkg}.(*defaultPodCommandExecutor).ExecutePodCommand` : `${pkg}.${fn}`,
  };
}
