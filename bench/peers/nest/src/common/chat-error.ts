/** An error a client is answered with: `{ok: false, error: {code, message}}`. */
export class ChatError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
