// Types for scripts/build.mjs, which bench/cli/startup.ts calls.
export declare function build(): boolean;
