// Backup logs as Velero writes them, by hand, line for line: logrus' text format (time, level, msg,
// then the other keys sorted; values Go-quoted unless every character is in [A-Za-z0-9-._/@^+]) and
// its JSON format (keys sorted, `error.message`, `<` as \u003c, hookCommand an array, hookTimeout a
// string). Per version: ≤1.12 `hookSource=backupSpec`; ≤1.14 `name`/`namespace`/`resource=pods` on
// every hook line; 1.15+ no pod fields at all; v1.15.0's "post  hooks" double space.

/**
 * Velero 1.12, text. nginx pod: spec pre hook `freeze` succeeds; annotation post hook fails with
 * exit 1 (stdout/stderr first, then the error line).
 */
export const V112_TEXT = [
  `time="2023-09-14T10:00:00Z" level=info msg="Setting up backup log" backup=velero/nightly-20230914 logSource="pkg/controller/backup_controller.go:613"`,
  `time="2023-09-14T10:00:01Z" level=info msg="Backing up item" backup=velero/nightly-20230914 logSource="pkg/backup/item_backupper.go:179" name=nginx-7d9c namespace=nginx-example resource=pods`,
  `time="2023-09-14T10:00:01Z" level=info msg="running exec hook" backup=velero/nightly-20230914 hookCommand="[/sbin/fsfreeze --freeze /var/log/nginx]" hookContainer=fsfreeze hookName=freeze hookOnError=Fail hookPhase=pre hookSource=backupSpec hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:126" name=nginx-7d9c namespace=nginx-example resource=pods`,
  `time="2023-09-14T10:00:01Z" level=info msg="stdout: " backup=velero/nightly-20230914 hookCommand="[/sbin/fsfreeze --freeze /var/log/nginx]" hookContainer=fsfreeze hookName=freeze hookOnError=Fail hookPhase=pre hookSource=backupSpec hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:173" name=nginx-7d9c namespace=nginx-example resource=pods`,
  `time="2023-09-14T10:00:01Z" level=info msg="stderr: " backup=velero/nightly-20230914 hookCommand="[/sbin/fsfreeze --freeze /var/log/nginx]" hookContainer=fsfreeze hookName=freeze hookOnError=Fail hookPhase=pre hookSource=backupSpec hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:174" name=nginx-7d9c namespace=nginx-example resource=pods`,
  `time="2023-09-14T10:00:02Z" level=info msg="running exec hook" backup=velero/nightly-20230914 hookCommand="[/bin/sh -c echo thaw; exit 1]" hookContainer=nginx hookName="<from-annotation>" hookOnError=Continue hookPhase=post hookSource=annotation hookTimeout="{2m30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:126" name=nginx-7d9c namespace=nginx-example resource=pods`,
  `time="2023-09-14T10:00:02Z" level=info msg="stdout: thaw\\n" backup=velero/nightly-20230914 hookCommand="[/bin/sh -c echo thaw; exit 1]" hookContainer=nginx hookName="<from-annotation>" hookOnError=Continue hookPhase=post hookSource=annotation hookTimeout="{2m30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:173" name=nginx-7d9c namespace=nginx-example resource=pods`,
  `time="2023-09-14T10:00:02Z" level=info msg="stderr: " backup=velero/nightly-20230914 hookCommand="[/bin/sh -c echo thaw; exit 1]" hookContainer=nginx hookName="<from-annotation>" hookOnError=Continue hookPhase=post hookSource=annotation hookTimeout="{2m30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:174" name=nginx-7d9c namespace=nginx-example resource=pods`,
  `time="2023-09-14T10:00:02Z" level=error msg="Error executing hook" backup=velero/nightly-20230914 error="command terminated with exit code 1" hookPhase=post hookSource=annotation hookType=exec logSource="internal/hook/item_hook_handler.go:263" name=nginx-7d9c namespace=nginx-example resource=pods`,
  `time="2023-09-14T10:00:03Z" level=info msg="Backed up a total of 4 items" backup=velero/nightly-20230914 logSource="pkg/backup/backup.go:436" progress=`,
].join("\n");

/**
 * Velero 1.14, text, `+08:00` zone. mysql-0: spec pre hook `flush` times out (no stdout/stderr);
 * a pod already Succeeded skips its post hook; a spec hook names a container the pod lacks.
 */
export const V114_TEXT = [
  `time="2024-08-02T03:10:00+08:00" level=info msg="running exec hook" backup=velero/db hookCommand="[mysql -e FLUSH TABLES WITH READ LOCK]" hookContainer=mysql hookName=flush hookOnError=Fail hookPhase=pre hookSource=spec hookTimeout="{10s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:134" name=mysql-0 namespace=db resource=pods`,
  `time="2024-08-02T03:10:10+08:00" level=error msg="Error executing hook" backup=velero/db error="timed out after 10s" error.file="/go/src/github.com/vmware-tanzu/velero/pkg/podexec/pod_command_executor.go:178" error.function=github.com/vmware-tanzu/velero/pkg/podexec.ExecutePodCommand hookPhase=pre hookSource=spec hookType=exec logSource="internal/hook/item_hook_handler.go:288" name=mysql-0 namespace=db resource=pods`,
  `time="2024-08-02T03:10:11+08:00" level=info msg="Pod entered phase Succeeded before some post-backup exec hooks ran" backup=velero/db hookCommand="[/bin/true]" hookContainer=job hookName=done hookOnError=Continue hookPhase=post hookSource=spec hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:130" name=migrate-x7 namespace=db resource=pods`,
  `time="2024-08-02T03:10:12+08:00" level=error msg="Error executing hook" backup=velero/db error="no such container: \\"POD-a\\"" error.file="/go/src/github.com/vmware-tanzu/velero/pkg/podexec/pod_command_executor.go:206" error.function=github.com/vmware-tanzu/velero/pkg/podexec.ensureContainerExists hookPhase=pre hookSource=spec hookType=exec logSource="internal/hook/item_hook_handler.go:288" name=web-1 namespace=db resource=pods`,
].join("\n");

/**
 * Velero 1.15.0, text: no pod fields; `Error running post  hooks for pod` (double space). Pod
 * nginx-7d9c: annotation pre hook succeeds; annotation post hook with on-error Fail fails.
 */
export const V115_TEXT = [
  `time="2025-01-10T01:00:00Z" level=info msg="Backing Up Item Block including pods nginx-example/nginx-7d9c (3 items in block)" backup=velero/b115 logSource="pkg/backup/backup.go:452"`,
  `time="2025-01-10T01:00:00Z" level=info msg="running exec hook" backup=velero/b115 hookCommand="[/sbin/fsfreeze --freeze /var/log/nginx]" hookContainer=fsfreeze hookName="<from-annotation>" hookOnError=Fail hookPhase=pre hookSource=annotation hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:134"`,
  `time="2025-01-10T01:00:00Z" level=info msg="stdout: " backup=velero/b115 hookCommand="[/sbin/fsfreeze --freeze /var/log/nginx]" hookContainer=fsfreeze hookName="<from-annotation>" hookOnError=Fail hookPhase=pre hookSource=annotation hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:181"`,
  `time="2025-01-10T01:00:00Z" level=info msg="stderr: " backup=velero/b115 hookCommand="[/sbin/fsfreeze --freeze /var/log/nginx]" hookContainer=fsfreeze hookName="<from-annotation>" hookOnError=Fail hookPhase=pre hookSource=annotation hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:182"`,
  `time="2025-01-10T01:00:00Z" level=info msg="Processing item" backup=velero/b115 logSource="pkg/backup/backup.go:588" name=nginx-7d9c namespace=nginx-example progress= resource=pods`,
  `time="2025-01-10T01:00:01Z" level=info msg="running exec hook" backup=velero/b115 hookCommand="[/sbin/fsfreeze --unfreeze /var/log/nginx]" hookContainer=fsfreeze hookName="<from-annotation>" hookOnError=Fail hookPhase=post hookSource=annotation hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:134"`,
  `time="2025-01-10T01:00:01Z" level=info msg="stdout: " backup=velero/b115 hookCommand="[/sbin/fsfreeze --unfreeze /var/log/nginx]" hookContainer=fsfreeze hookName="<from-annotation>" hookOnError=Fail hookPhase=post hookSource=annotation hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:181"`,
  `time="2025-01-10T01:00:01Z" level=info msg="stderr: fsfreeze: /var/log/nginx: unfreeze failed: Invalid argument\\n" backup=velero/b115 hookCommand="[/sbin/fsfreeze --unfreeze /var/log/nginx]" hookContainer=fsfreeze hookName="<from-annotation>" hookOnError=Fail hookPhase=post hookSource=annotation hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:182"`,
  `time="2025-01-10T01:00:01Z" level=error msg="Error executing hook" backup=velero/b115 error="command terminated with exit code 1" hookPhase=post hookSource=annotation hookType=exec logSource="internal/hook/item_hook_handler.go:239"`,
  `time="2025-01-10T01:00:01Z" level=error msg="Error running post  hooks for pod" backup=velero/b115 error="command terminated with exit code 1" logSource="pkg/backup/backup.go:682" name=nginx-7d9c`,
].join("\n");

/**
 * Velero 1.18, text: no pod fields. Two pods run the same spec pre hook `sync` (one ItemBlock
 * worker, so sequential); the second one fails; a hook with an unknown container is rejected before
 * exec; the pre-hook failure of a Fail hook names the pod.
 */
export const V118_TEXT = [
  `time="2026-03-01T00:00:01Z" level=info msg="running exec hook" backup=velero/b118 hookCommand="[/bin/sync]" hookContainer=app hookName=sync hookOnError=Fail hookPhase=pre hookSource=spec hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:134"`,
  `time="2026-03-01T00:00:01Z" level=info msg="stdout: " backup=velero/b118 hookCommand="[/bin/sync]" hookContainer=app hookName=sync hookOnError=Fail hookPhase=pre hookSource=spec hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:181"`,
  `time="2026-03-01T00:00:01Z" level=info msg="stderr: " backup=velero/b118 hookCommand="[/bin/sync]" hookContainer=app hookName=sync hookOnError=Fail hookPhase=pre hookSource=spec hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:182"`,
  `time="2026-03-01T00:00:02Z" level=info msg="running exec hook" backup=velero/b118 hookCommand="[/bin/sync]" hookContainer=app hookName=sync hookOnError=Fail hookPhase=pre hookSource=spec hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:134"`,
  `time="2026-03-01T00:00:02Z" level=info msg="stdout: " backup=velero/b118 hookCommand="[/bin/sync]" hookContainer=app hookName=sync hookOnError=Fail hookPhase=pre hookSource=spec hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:181"`,
  `time="2026-03-01T00:00:02Z" level=info msg="stderr: sync: error syncing: I/O error\\n" backup=velero/b118 hookCommand="[/bin/sync]" hookContainer=app hookName=sync hookOnError=Fail hookPhase=pre hookSource=spec hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:182"`,
  `time="2026-03-01T00:00:02Z" level=error msg="Error executing hook" backup=velero/b118 error="command terminated with exit code 1" hookPhase=pre hookSource=spec hookType=exec logSource="internal/hook/item_hook_handler.go:288"`,
  `time="2026-03-01T00:00:02Z" level=error msg="Error running pre hooks for pod" backup=velero/b118 error="command terminated with exit code 1" logSource="pkg/backup/backup.go:825" name=app-1`,
  `time="2026-03-01T00:00:03Z" level=error msg="Error executing hook" backup=velero/b118 error="no such container: \\"sidecar\\"" error.file="/go/src/github.com/vmware-tanzu/velero/pkg/podexec/pod_command_executor.go:206" error.function=github.com/vmware-tanzu/velero/pkg/podexec.ensureContainerExists hookPhase=post hookSource=spec hookType=exec logSource="internal/hook/item_hook_handler.go:288"`,
].join("\n");

/** Velero 1.14 with `--log-format json`: same story as V114_TEXT's first two lines, plus a success. */
export const V114_JSON = [
  `{"backup":"velero/db","hookCommand":["mysql","-e","FLUSH TABLES WITH READ LOCK"],"hookContainer":"mysql","hookName":"flush","hookOnError":"Fail","hookPhase":"pre","hookSource":"spec","hookTimeout":"10s","hookType":"exec","level":"info","logSource":"pkg/podexec/pod_command_executor.go:134","msg":"running exec hook","name":"mysql-0","namespace":"db","resource":"pods","time":"2024-08-02T03:10:00+08:00"}`,
  `{"backup":"velero/db","error.file":"/go/src/github.com/vmware-tanzu/velero/pkg/podexec/pod_command_executor.go:178","error.function":"github.com/vmware-tanzu/velero/pkg/podexec.ExecutePodCommand","error.message":"timed out after 10s","hookPhase":"pre","hookSource":"spec","hookType":"exec","level":"error","logSource":"internal/hook/item_hook_handler.go:288","msg":"Error executing hook","name":"mysql-0","namespace":"db","resource":"pods","time":"2024-08-02T03:10:10+08:00"}`,
  `{"backup":"velero/db","hookCommand":["/usr/bin/mysql","-e","UNLOCK TABLES"],"hookContainer":"mysql","hookName":"\\u003cfrom-annotation\\u003e","hookOnError":"Fail","hookPhase":"post","hookSource":"annotation","hookTimeout":"30s","hookType":"exec","level":"info","logSource":"pkg/podexec/pod_command_executor.go:134","msg":"running exec hook","name":"mysql-1","namespace":"db","resource":"pods","time":"2024-08-02T03:10:20+08:00"}`,
  `{"backup":"velero/db","hookCommand":["/usr/bin/mysql","-e","UNLOCK TABLES"],"hookContainer":"mysql","hookName":"\\u003cfrom-annotation\\u003e","hookOnError":"Fail","hookPhase":"post","hookSource":"annotation","hookTimeout":"30s","hookType":"exec","level":"info","logSource":"pkg/podexec/pod_command_executor.go:181","msg":"stdout: ","name":"mysql-1","namespace":"db","resource":"pods","time":"2024-08-02T03:10:20+08:00"}`,
  `{"backup":"velero/db","hookCommand":["/usr/bin/mysql","-e","UNLOCK TABLES"],"hookContainer":"mysql","hookName":"\\u003cfrom-annotation\\u003e","hookOnError":"Fail","hookPhase":"post","hookSource":"annotation","hookTimeout":"30s","hookType":"exec","level":"info","logSource":"pkg/podexec/pod_command_executor.go:182","msg":"stderr: ","name":"mysql-1","namespace":"db","resource":"pods","time":"2024-08-02T03:10:20+08:00"}`,
].join("\n");

/** Velero 1.18 with `--log-format json`: the V118_TEXT story's second, failing hook and the rejected one. */
export const V118_JSON = [
  `{"backup":"velero/b118","hookCommand":["/bin/sync"],"hookContainer":"app","hookName":"sync","hookOnError":"Fail","hookPhase":"pre","hookSource":"spec","hookTimeout":"30s","hookType":"exec","level":"info","logSource":"pkg/podexec/pod_command_executor.go:134","msg":"running exec hook","time":"2026-03-01T00:00:02Z"}`,
  `{"backup":"velero/b118","hookCommand":["/bin/sync"],"hookContainer":"app","hookName":"sync","hookOnError":"Fail","hookPhase":"pre","hookSource":"spec","hookTimeout":"30s","hookType":"exec","level":"info","logSource":"pkg/podexec/pod_command_executor.go:181","msg":"stdout: ","time":"2026-03-01T00:00:02Z"}`,
  `{"backup":"velero/b118","hookCommand":["/bin/sync"],"hookContainer":"app","hookName":"sync","hookOnError":"Fail","hookPhase":"pre","hookSource":"spec","hookTimeout":"30s","hookType":"exec","level":"info","logSource":"pkg/podexec/pod_command_executor.go:182","msg":"stderr: sync: error syncing: I/O error\\n","time":"2026-03-01T00:00:02Z"}`,
  `{"backup":"velero/b118","error.message":"command terminated with exit code 1","hookPhase":"pre","hookSource":"spec","hookType":"exec","level":"error","logSource":"internal/hook/item_hook_handler.go:288","msg":"Error executing hook","time":"2026-03-01T00:00:02Z"}`,
  `{"backup":"velero/b118","error.message":"command terminated with exit code 1","level":"error","logSource":"pkg/backup/backup.go:825","msg":"Error running pre hooks for pod","name":"app-1","time":"2026-03-01T00:00:02Z"}`,
  `{"backup":"velero/b118","error.file":"/go/src/github.com/vmware-tanzu/velero/pkg/podexec/pod_command_executor.go:206","error.function":"github.com/vmware-tanzu/velero/pkg/podexec.ensureContainerExists","error.message":"no such container: \\"sidecar\\"","hookPhase":"post","hookSource":"spec","hookType":"exec","level":"error","logSource":"internal/hook/item_hook_handler.go:288","msg":"Error executing hook","time":"2026-03-01T00:00:03Z"}`,
].join("\n");
