// One Backup, start to end: parse spec hooks, collect, group ItemBlocks, process blocks through the
// worker pool, write the archive. Per block: persist the pods awaiting post hooks -> pre hooks ->
// items (bounded by the freeze window) -> post hooks for every pod whose pre hooks did not fail in
// Fail mode, ALWAYS, whatever happened to the items -> clear the record. Returns the outcome; the
// caller (controller) writes the status. Never throws for cluster or hook problems.
import {
  buildItemBlocks,
  millisToGoDuration,
  parseBackupHooks,
  resolvePodHooks,
  type ItemBlock,
  type PodLike,
  type ResourceHookSpec,
} from "../../domain/index.js";
import { archivePath, writeArchive, type ArchiveItem } from "../store/archive.js";
import { podRef, type AgentRunOptions, type RunContext } from "../runtime/run-context.js";
import { collectItems } from "../scope/collect.js";
import { backUpBlockItems, type ItemStepResult } from "./block-items.js";
import { PendingRecord } from "./pending.js";
import { podSessionKey } from "../runtime/pod-lock.js";
import { runPodPhase } from "../hooks/run-phase.js";
import { runPool } from "./worker-pool.js";

export interface BackupRunOutcome {
  /** "Failed": the backup could not run at all (bad selector, cluster unreadable) */
  phase: "Completed" | "PartiallyFailed" | "Failed";
  failureReason?: string;
  totalItems: number;
  itemsBackedUp: number;
  /** leadership lost / shutdown: the status must be left for the recovering agent */
  aborted: boolean;
}

/** Runs fn over pods sequentially (Velero) or concurrently (--parallel-hooks). */
async function forPods<T>(
  pods: PodLike[],
  parallel: boolean,
  fn: (pod: PodLike) => Promise<T>,
): Promise<T[]> {
  if (parallel) return Promise.all(pods.map(fn));
  const out: T[] = [];
  for (const pod of pods) out.push(await fn(pod));
  return out;
}

function raceWindow(
  step: Promise<ItemStepResult>,
  windowMs: number,
  abortStep: AbortController,
): Promise<ItemStepResult | "expired"> {
  if (!Number.isFinite(windowMs)) return step;
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => {
        abortStep.abort();
        resolve("expired");
      },
      Math.max(0, windowMs),
    );
    void step.then((r) => {
      clearTimeout(timer);
      resolve(r);
    });
  });
}

/** One ItemBlock's run: the backup's run context plus what this block needs. */
interface BlockContext {
  ctx: RunContext;
  opts: AgentRunOptions;
  block: ItemBlock;
  /** the block's position, as the pending record and the log lines name it */
  index: number;
  /** the Backup's spec hooks, parsed once */
  specs: ResourceHookSpec[];
  /** the Backup's record of pods awaiting post hooks */
  pending: PendingRecord;
  /** the Backup's archive items, appended to as blocks finish */
  archive: ArchiveItem[];
}

type HasHooks = (pod: PodLike, phase: "pre" | "post") => boolean;

async function runBlock(bc: BlockContext): Promise<{ itemsBackedUp: number; aborted: boolean }> {
  const { ctx, block, specs } = bc;
  if (ctx.signal.aborted) return { itemsBackedUp: 0, aborted: true };
  const hasHooks: HasHooks = (pod, phase) => resolvePodHooks(pod, specs, phase).hooks.length > 0;
  // the block's pods with hooks are held from the first pre hook to the last post hook
  const sessions = block.pods
    .filter((p) => hasHooks(p, "pre") || hasHooks(p, "post"))
    .map((p) => podSessionKey(podRef(p).namespace, podRef(p).name));
  return ctx.podLocks.runAll(sessions, () => runBlockLocked(bc, hasHooks));
}

async function runBlockLocked(
  bc: BlockContext,
  hasHooks: HasHooks,
): Promise<{ itemsBackedUp: number; aborted: boolean }> {
  const { ctx, opts, block, index, specs, pending, archive } = bc;
  if (ctx.signal.aborted) return { itemsBackedUp: 0, aborted: true };
  const needPost = block.pods.filter((p) => hasHooks(p, "post"));
  const anyPre = block.pods.some((p) => hasHooks(p, "pre"));
  let persisted = true;
  if (needPost.length > 0) {
    const r = await pending.add(index, needPost.map(podRef));
    if (!r.ok) {
      // without the record a crash would leave pods frozen with nobody to thaw them: run no hooks
      persisted = false;
      ctx.backupLog.recordError(
        "could not persist the pods awaiting post hooks; this block's hooks are not run",
        { error: r.error, itemBlock: index },
      );
    }
  }
  const freezeStart = Date.now();
  const failedPre = new Set<PodLike>();
  if (persisted) {
    ctx.metrics.podsAwaitingPostHooks.inc(needPost.length);
    const pre = await forPods(block.pods, opts.parallelHooks, (pod) => runPodPhase(ctx, pod, "pre", specs));
    pre.forEach((o, i) => o.failedFail && failedPre.add(block.pods[i]!));
    // a pod whose pre hooks failed in Fail mode gets no post hooks: not after a crash either
    if (needPost.some((p) => failedPre.has(p)))
      await pending.add(index, needPost.filter((p) => !failedPre.has(p)).map(podRef));
    if (pre.some((o) => o.aborted) || ctx.signal.aborted) {
      ctx.metrics.podsAwaitingPostHooks.dec(needPost.length);
      return { itemsBackedUp: 0, aborted: true };
    }
  }

  const abortStep = new AbortController();
  const onOuterAbort = (): void => abortStep.abort();
  ctx.signal.addEventListener("abort", onOuterAbort, { once: true });
  const windowMs = persisted && anyPre ? opts.maxFreezeWindowMs - (Date.now() - freezeStart) : Infinity;
  const step = await raceWindow(
    backUpBlockItems(ctx, opts, block, failedPre, abortStep.signal),
    windowMs,
    abortStep,
  );
  ctx.signal.removeEventListener("abort", onOuterAbort);
  let itemsBackedUp = 0;
  if (step === "expired") {
    const postPods = needPost.filter((p) => !failedPre.has(p)).length;
    ctx.backupLog.recordError(
      `item step abandoned: the freeze window of ${millisToGoDuration(opts.maxFreezeWindowMs)} (--max-freeze-window) expired; running post hooks now`,
      { itemBlock: index },
    );
    ctx.metrics.forcedPostHooks.inc({ reason: "freeze_window" }, postPods);
  } else {
    archive.push(...step.items);
    itemsBackedUp = step.itemsBackedUp;
    for (const e of step.errors)
      ctx.backupLog.recordError("Error backing up item", { itemBlock: index, error: e });
  }
  if (ctx.signal.aborted) {
    if (persisted) ctx.metrics.podsAwaitingPostHooks.dec(needPost.length);
    return { itemsBackedUp, aborted: true };
  }

  if (persisted) {
    const postPods = block.pods.filter((p) => !failedPre.has(p));
    const post = await forPods(postPods, opts.parallelHooks, (pod) => runPodPhase(ctx, pod, "post", specs));
    ctx.metrics.podsAwaitingPostHooks.dec(needPost.length);
    if (post.some((o) => o.aborted) || ctx.signal.aborted) return { itemsBackedUp, aborted: true };
    if (anyPre || needPost.length > 0) ctx.metrics.freezeWindow.observe((Date.now() - freezeStart) / 1000);
    if (needPost.length > 0) await pending.remove(index);
  }
  return { itemsBackedUp, aborted: false };
}

export async function runBackup(ctx: RunContext, opts: AgentRunOptions): Promise<BackupRunOutcome> {
  const failed = (reason: string): BackupRunOutcome => {
    ctx.backupLog.recordError(reason);
    return { phase: "Failed", failureReason: reason, totalItems: 0, itemsBackedUp: 0, aborted: false };
  };
  const parsed = parseBackupHooks(ctx.backup.spec.hooks, { pathPrefix: "spec.hooks" });
  // A label selector Velero cannot convert fails the whole backup (E32); other error findings are
  // per hook (blockers) and fail only that hook.
  const fatal = parsed.findings.find((f) => f.severity === "error" && f.code.startsWith("selector-"));
  if (fatal) return failed(`${fatal.path}: ${fatal.message}`);
  for (const f of parsed.findings) {
    if (f.severity === "warning") {
      ctx.backupLog.recordWarning(`${f.path}: ${f.message}`);
      ctx.metrics.hookConfigWarnings.inc();
    }
  }
  const collected = await collectItems(ctx.cluster, ctx.backup.spec);
  if (!collected.ok) return failed(collected.error);
  const blocks = buildItemBlocks(collected.value);
  const totalItems = blocks.reduce((n, b) => n + b.items.length, 0);
  ctx.backupLog.info(`collected ${totalItems} items in ${blocks.length} item blocks`);

  const b = ctx.backup.metadata;
  const pending = new PendingRecord(ctx.cluster, b.namespace, b.name, ctx.logger);
  const archive: ArchiveItem[] = [];
  let itemsBackedUp = 0;
  let aborted = false;
  await runPool(blocks, opts.workers, async (block, i) => {
    const r = await runBlock({ ctx, opts, block, index: i, specs: parsed.resources, pending, archive });
    itemsBackedUp += r.itemsBackedUp;
    aborted ||= r.aborted;
  });
  if (aborted || ctx.signal.aborted) return { phase: "Failed", totalItems, itemsBackedUp, aborted: true };

  const written = await writeArchive(archivePath(opts.storageDir, b.name), archive);
  if (!written.ok) ctx.backupLog.recordError(written.error);
  else ctx.backupLog.info(`wrote archive with ${archive.length} items`, { bytes: written.value.bytes });
  return {
    phase: ctx.backupLog.errors > 0 ? "PartiallyFailed" : "Completed",
    totalItems,
    itemsBackedUp,
    aborted: false,
  };
}
