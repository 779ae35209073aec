// Public API of the pure hook domain. Callers import from here only.
export * from "./types.js";
export { isObject } from "./json.js";
export { hookGate } from "./eligibility.js";
export type { HookGate } from "./eligibility.js";
export { HOOKED_KINDS, hookedKindOf, preferredApiVersion } from "./kinds.js";
export type { HookedKind } from "./kinds.js";
export { parseGoDuration, formatGoDuration, millisToGoDuration, nanosToMillis } from "./duration.js";
export {
  ALL_HOOK_ANNOTATION_KEYS,
  BACKUP_HOOK_FIELDS,
  DEFAULT_TIMEOUT_MS,
  HOOK_ANNOTATIONS,
  LEGACY_HOOK_PREFIX,
  POST_HOOK_PREFIX,
  PRE_HOOK_PREFIX,
  RESTORE_EXEC_FIELDS,
  RESTORE_EXEC_PREFIX,
  RESTORE_INIT_FIELDS,
  RESTORE_INIT_PREFIX,
  checkContainer,
  hookAnnotationKey,
  isValidOnError,
  parsePodHooks,
} from "./annotations.js";
export type { BackupHookField, HookKeySet, ParsePodHooksOptions } from "./annotations.js";
export { parseCommandAnnotation, isShellArgv } from "./command.js";
export { parseBackupHooks } from "./backup-spec.js";
export type { ParseBackupHooksOptions } from "./backup-spec.js";
export { globCovers, globMatchesSomeNamespace, globsMeet } from "./glob-overlap.js";
export { RISKY_PATTERNS, riskyCommandFindings } from "./risky-commands.js";
export type { RiskyPattern } from "./risky-commands.js";
export {
  compileGlob,
  matchLabelSelector,
  matchNamespace,
  resolveResourceName,
  resourceHookAppliesTo,
  resourceIncluded,
  whyNotApplicable,
} from "./selection.js";
export { parseLabelSelector, parseOrLabelSelectors } from "./selector-text.js";
export { resolvePodHooks } from "./resolve.js";
export type { ResolvedPodHooks } from "./resolve.js";
export { podTemplateOf, validateObject } from "./objects.js";
export { normalizePodHooks } from "./normalize.js";
export type { Normalization } from "./normalize.js";
export { buildItemBlocks } from "./itemblocks.js";
export {
  EXCLUDE_LABEL,
  describeInclusion,
  excludedFromBackup,
  isPodRunning,
  podClaimNames,
  podKey,
  pvKey,
  pvcKey,
  selectRelatedItems,
} from "./related-items.js";
export type { Candidates, Inclusion, RelatedSelection } from "./related-items.js";
export type { ItemBlockInput } from "./itemblocks.js";
export { isTimeZone, parseSchedule } from "./schedule.js";
export type { ScheduleSpec } from "./schedule.js";
export {
  THAW_GUARD_ANNOTATION,
  THAW_GUARD_VALUES,
  checkThawGuardAnnotation,
  isNotFrozenFailure,
  recognisedThawPath,
  thawEligibility,
  thawGuardSetting,
} from "./thaw-guard.js";
export type { ThawEligibility, ThawGuardSetting } from "./thaw-guard.js";
export { OWNER_ANNOTATION, backupRunner } from "./backup-owner.js";
export type { BackupRunner } from "./backup-owner.js";
