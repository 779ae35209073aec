// A fixed-size worker pool over a list: at most `workers` calls of fn run at once, items are started
// in list order (like Velero's ItemBlock worker pool). fn must not reject; a rejection is a
// programmer error and is rethrown after all started work has settled.

export async function runPool<T>(
  items: readonly T[],
  workers: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  const n = Math.max(1, Math.min(workers, items.length));
  await Promise.all(Array.from({ length: n }, () => worker()));
  if (errors.length > 0) throw errors[0];
}
