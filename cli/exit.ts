/** Thrown by a command to end the CLI with a chosen exit code and message. */
export class CliExit extends Error {
  readonly code: number;

  constructor(code: number, message = '') {
    super(message);
    this.code = code;
  }
}
