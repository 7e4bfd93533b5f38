// sendmux-sync is ESM-only: from CommonJS, load it with `await import('sendmux-sync')`.
// require() throws at run time with that advice (see esm-only.cjs).
export {};
