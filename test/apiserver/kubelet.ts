// A kubelet double: schedules each new pod onto "node-1" and, after a short delay, reports it Running
// with running containerStatuses, a podIP and Ready conditions (or keeps it Pending, or ends it
// Succeeded/Failed). Per pod, the annotation `double.hookguard.dev/phase` (Pending, Running,
// Succeeded, Failed) overrides the default. Pods being deleted gracefully are removed after a delay.
import type { ObjectStore, StoredEvent } from "./store.js";
import { RESOURCES } from "./resources.js";
import { nowTimestamp } from "./write-rules.js";

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed";

export interface KubeletKnobs {
  runningAfterMs: number;
  /** Delay before a gracefully deleted pod disappears. */
  deleteAfterMs: number;
  /** Phase new pods reach; "Off" disables the kubelet double entirely (pods stay as written). */
  defaultPhase: PodPhase | "Off";
}

export const PHASE_ANNOTATION = "double.hookguard.dev/phase";
const PODS = RESOURCES.find((r) => r.kind === "Pod")!;
let ipCounter = 10;

export class KubeletDouble {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectStore,
    private readonly knobs: KubeletKnobs,
  ) {
    this.unsubscribe = store.subscribe((e) => this.onEvent(e));
  }

  stop(): void {
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Test API: move a pod to a phase now. */
  setPhase(namespace: string, name: string, phase: PodPhase): void {
    const pod = this.store.get(PODS, namespace, name);
    if (pod) this.store.write(PODS, withPhase(pod, phase), "MODIFIED");
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private onEvent(e: StoredEvent): void {
    if (e.resource !== PODS || this.knobs.defaultPhase === "Off") return;
    const pod = e.object;
    const { namespace, name } = pod.metadata;
    // Pods created with a node or a non-Pending phase (e.g. by a test) are left as they are.
    if (e.type === "ADDED" && !pod.spec?.nodeName && (pod.status?.phase ?? "Pending") === "Pending") {
      // Scheduling: bind to the one node right away.
      this.later(0, () => {
        const cur = this.store.get(PODS, namespace, name);
        if (!cur || cur.metadata.uid !== pod.metadata.uid || cur.spec?.nodeName) return;
        cur.spec.nodeName = "node-1";
        cur.status = {
          ...(cur.status ?? {}),
          conditions: [
            { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: nowTimestamp() },
          ],
        };
        this.store.write(PODS, cur, "MODIFIED");
        const phase =
          (cur.metadata.annotations?.[PHASE_ANNOTATION] as PodPhase | undefined) ?? this.knobs.defaultPhase;
        if (phase === "Pending" || phase === "Off") return;
        this.later(this.knobs.runningAfterMs, () => {
          const now = this.store.get(PODS, namespace, name);
          if (!now || now.metadata.uid !== pod.metadata.uid || now.metadata.deletionTimestamp) return;
          this.store.write(PODS, withPhase(now, phase), "MODIFIED");
        });
      });
    }
    if (e.type === "MODIFIED" && pod.metadata.deletionTimestamp && pod.spec?.nodeName) {
      this.later(this.knobs.deleteAfterMs, () => {
        const cur = this.store.get(PODS, namespace, name);
        if (cur && cur.metadata.uid === pod.metadata.uid && (cur.metadata.finalizers ?? []).length === 0)
          this.store.remove(PODS, namespace, name);
      });
    }
  }
}

function withPhase(pod: any, phase: PodPhase): any {
  const started = nowTimestamp();
  const running = phase === "Running";
  const containers: any[] = pod.spec?.containers ?? [];
  const state = (c: any): any =>
    running
      ? { running: { startedAt: started } }
      : phase === "Pending"
        ? { waiting: { reason: "ContainerCreating" } }
        : {
            terminated: {
              exitCode: phase === "Succeeded" ? 0 : 1,
              reason: phase === "Succeeded" ? "Completed" : "Error",
              startedAt: started,
              finishedAt: started,
              containerID: `containerd://${c.name}`,
            },
          };
  const cond = (type: string, ok: boolean): any => ({
    type,
    status: ok ? "True" : "False",
    lastProbeTime: null,
    lastTransitionTime: started,
  });
  pod.status = {
    phase,
    conditions: [
      cond("PodReadyToStartContainers", phase !== "Pending"),
      cond("Initialized", true),
      cond("Ready", running),
      cond("ContainersReady", running),
      cond("PodScheduled", true),
    ],
    hostIP: "10.0.0.1",
    hostIPs: [{ ip: "10.0.0.1" }],
    podIP: phase === "Pending" ? undefined : `10.244.0.${ipCounter}`,
    podIPs: phase === "Pending" ? undefined : [{ ip: `10.244.0.${ipCounter}` }],
    startTime: pod.status?.startTime ?? started,
    containerStatuses: containers.map((c) => ({
      name: c.name,
      state: state(c),
      lastState: {},
      ready: running,
      restartCount: 0,
      image: c.image,
      imageID: `${c.image}@sha256:${"0".repeat(64)}`,
      containerID: phase === "Pending" ? undefined : `containerd://${pod.metadata.uid}-${c.name}`,
      started: running,
    })),
    qosClass: pod.status?.qosClass ?? "BestEffort",
  };
  ipCounter = ipCounter >= 250 ? 10 : ipCounter + 1;
  return JSON.parse(JSON.stringify(pod));
}
