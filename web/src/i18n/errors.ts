// The one place that turns an error code into words for the user.
import { asApiError } from '../api/errors'
import type { MessageKey } from './en'
import { type Language, translate } from './index'

const KNOWN: Record<string, MessageKey> = {
  network: 'error.network',
  session_lost: 'error.session_lost',
  unauthenticated: 'error.session_lost',
  token_expired: 'error.session_lost',
  token_invalid: 'error.session_lost',
  session_revoked: 'error.session_lost',
  validation_error: 'error.validation_error',
  payload_too_large: 'error.payload_too_large',
  invalid_credentials: 'error.invalid_credentials',
  rate_limited: 'error.rate_limited',
  not_allowed: 'error.not_allowed',
  forbidden: 'error.forbidden',
  not_found: 'error.not_found',
  conflict: 'error.conflict',
  chat_closed: 'error.chat_closed',
  capacity_reached: 'error.capacity_reached',
  email_taken: 'error.email_taken',
  internal_error: 'error.internal_error',
  account_disabled: 'error.account_disabled',
  not_a_member: 'error.not_a_member',
  weak_password: 'error.weak_password',
  username_taken: 'error.username_taken',
  message_deleted: 'error.message_deleted',
  push_not_configured: 'error.push_not_configured',
  // help desk (issue 18)
  already_rated: 'error.already_rated',
  chat_not_closed: 'error.chat_not_closed',
  shortcode_taken: 'error.shortcode_taken',
  topic_taken: 'error.topic_taken',
  unknown_team: 'error.unknown_team',
}

const SESSION_ENDED: Record<string, MessageKey> = {
  logout: 'session.ended.logout',
  revoked_by_user: 'session.ended.revoked_by_user',
  password_changed: 'session.ended.password_changed',
  refresh_token_reuse: 'session.ended.refresh_token_reuse',
  account_disabled: 'session.ended.account_disabled',
}

/** The words for why a session ended (the reason of `session:ended`). */
export function sessionEndedKey(reason: string | null): MessageKey {
  return (reason && SESSION_ENDED[reason]) || 'session.ended'
}

export function errorKey(code: string): MessageKey | null {
  return KNOWN[code] ?? null
}

export function describeError(language: Language, error: unknown): string {
  const failure = asApiError(error)
  const key = errorKey(failure.code)
  const params: Record<string, string | number> = { message: failure.message }
  for (const [name, value] of Object.entries(failure.details)) {
    if (typeof value === 'number' || typeof value === 'string') params[name] = value
  }
  return key ? translate(language, key, params) : translate(language, 'error.unknown', params)
}
