// Errors of the command line, each with its exit code (documented in README "Use it
// from an agent"): 0 ok, 1 failure, 2 bad usage, 3 auth, 4 network.

/** Exit codes of `sendmux-sync`. */
export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, network: 4 } as const;

/** A failure the user (or an agent) can act on: one line, no stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
    readonly code: string = 'failed',
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad argument or option. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage, 'bad_usage');
}
