// Every failure the UI can meet, with a stable code: the server's codes
// (api.md), plus the client's own: `network` (no answer), `session_lost`.
export interface ErrorBody {
  error?: { code?: string; message?: string; details?: Record<string, unknown> }
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }

  get isNetwork(): boolean {
    return this.code === 'network'
  }

  get isAuth(): boolean {
    return ['unauthenticated', 'token_expired', 'token_invalid'].includes(this.code)
  }

  static from(status: number, body: unknown): ApiError {
    const error = (body as ErrorBody | null)?.error
    return new ApiError(
      error?.code ?? (status >= 500 ? 'internal_error' : 'error'),
      error?.message ?? `HTTP ${status}`,
      status,
      error?.details ?? {},
    )
  }
}

export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof TypeError) return new ApiError('network', error.message)
  return new ApiError('error', String(error))
}
