// Types for bin/dist-current.js (plain JavaScript: the bin runs before anything is compiled).
export declare const STAMP: string;
export declare function distState(root: string): "current" | "stale" | "missing";
