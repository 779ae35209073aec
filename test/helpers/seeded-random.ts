// A small seeded generator for tests that draw many inputs: the same seed gives the same cases on
// every run, so a failure names an input that can be replayed.

/** Returns next(n): an integer in [0, n), from a linear congruential sequence started at `seed`. */
export function seededInts(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}
