/** A client id for an idempotent send: a retry with it never stores twice. */
export function clientId(): string {
  return crypto.randomUUID()
}
