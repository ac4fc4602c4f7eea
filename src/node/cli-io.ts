// What every CLI command shares: where it writes, and the error for a wrong command line (kept apart from cli.ts so
// commands in their own files import it without an import cycle).
import { HpdError } from '../errors.js';

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stderr is a terminal (progress redraws in place). */
  tty: boolean;
}

/** A mistake in the command line: printed with the command's usage, exit status 2. */
export class UsageError extends HpdError {
  constructor(message: string) {
    super('INVALID_INPUT', message);
  }
}
