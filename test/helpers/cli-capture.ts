// A CliIO that keeps what a command printed, for the CLI tests.
import type { CliIO } from '../../src/node/cli-io.js';

export function capture(): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    tty: false,
    out: (s: string) => void (io.stdout += s),
    err: (s: string) => void (io.stderr += s),
  };
  return io;
}
