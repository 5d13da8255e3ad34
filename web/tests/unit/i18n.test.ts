import { describe, expect, it } from 'vitest'
import { ApiError } from '../../src/api/errors'
import { en } from '../../src/i18n/en'
import { describeError, sessionEndedKey } from '../../src/i18n/errors'
import { fa } from '../../src/i18n/fa'
import { direction, formatDuration, formatNumber, pickLanguage, translate } from '../../src/i18n'

describe('i18n', () => {
  it('follows the browser until the user chooses', () => {
    expect(pickLanguage(null, ['fa-IR', 'en-US'])).toBe('fa')
    expect(pickLanguage(null, ['de-DE', 'en-GB'])).toBe('en')
    expect(pickLanguage(null, ['de-DE'])).toBe('en')
    expect(pickLanguage('en', ['fa-IR'])).toBe('en')
  })

  it('writes numbers with the language digits and sets the direction', () => {
    expect(translate('fa', 'availability.load', { load: 2, capacity: 3 })).toBe('بار ۲ از ۳')
    expect(translate('en', 'availability.load', { load: 2, capacity: 3 })).toBe('Load 2 of 3')
    expect(formatNumber('fa', 16000)).toBe('۱۶٬۰۰۰')
    expect(direction('fa')).toBe('rtl')
    expect(formatDuration('en', 125)).toBe('2 min')
    expect(formatDuration('fa', 30)).toContain('۳۰')
  })

  it('has every English phrase in Persian, with the same placeholders', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
      expect(fa[key], key).toBeTruthy()
      expect(names(fa[key]), key).toEqual(names(en[key]))
    }
  })

  it('maps error codes to words in one place, with their details', () => {
    expect(describeError('en', new ApiError('payload_too_large', 'x', 413, { limit: 16000 }))).toBe(
      'That is too long: at most 16,000 characters.',
    )
    expect(describeError('en', new TypeError('Failed to fetch'))).toBe('No connection to the server. We will keep trying.')
    expect(describeError('en', new ApiError('token_expired', 'x', 401))).toBe('Your session ended. Please sign in again.')
    expect(describeError('en', new ApiError('brand_new_code', 'The server said so.', 400))).toBe(
      'Something went wrong: The server said so.',
    )
  })
})

describe('why a session ended', () => {
  it('is told in words for each reason the server gives, in both languages', () => {
    expect(translate('en', sessionEndedKey('account_disabled'))).toBe(
      'Your account has been disabled. Contact an administrator.',
    )
    expect(translate('fa', sessionEndedKey('revoked_by_user'))).toBe(
      'این دستگاه از دستگاه دیگری خارج شد. لطفاً دوباره وارد شوید.',
    )
    expect(sessionEndedKey('session_lost')).toBe('session.ended')
    expect(sessionEndedKey(null)).toBe('session.ended')
  })
})
