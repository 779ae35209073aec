// The single source of the version string shown by `--version` and `hookguard_build_info`.
export const VERSION = "0.1.0";
