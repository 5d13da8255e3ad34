// Every string of the UI comes through t(). The language follows the browser
// until the user picks one; <html lang dir> follow the language, so layout
// (written in logical CSS properties) mirrors itself for Persian.
import { Store, useStore } from '../lib/store'
import { en, type MessageKey } from './en'
import { fa } from './fa'

export type Language = 'en' | 'fa'
export const LANGUAGES: Language[] = ['en', 'fa']
const DICTIONARIES: Record<Language, Record<MessageKey, string>> = { en, fa }
const STORAGE_KEY = 'goftogu.language'

export type Params = Record<string, string | number>

export function direction(language: Language): 'ltr' | 'rtl' {
  return language === 'fa' ? 'rtl' : 'ltr'
}

export function pickLanguage(stored: string | null, browser: readonly string[]): Language {
  if (stored === 'en' || stored === 'fa') return stored
  for (const tag of browser) {
    const base = tag.toLowerCase().split('-')[0]
    if (base === 'fa' || base === 'en') return base
  }
  return 'en'
}

/** Translate ``key`` in ``language``; numbers in params are written with its digits. */
export function translate(language: Language, key: MessageKey, params: Params = {}): string {
  const template = DICTIONARIES[language][key] ?? en[key] ?? key
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name]
    if (value === undefined) return whole
    return typeof value === 'number' ? formatNumber(language, value) : value
  })
}

export function formatNumber(language: Language, value: number): string {
  return new Intl.NumberFormat(language).format(value)
}

export function formatTime(language: Language, at: string | Date): string {
  return new Intl.DateTimeFormat(language, { hour: '2-digit', minute: '2-digit' }).format(new Date(at))
}

export function formatDateTime(language: Language, at: string | Date): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at))
}

/** A waiting time such as "2 min" or "45 sec", in the language's words and digits. */
export function formatDuration(language: Language, seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds))
  const [value, unit] =
    whole < 60 ? [whole, 'second'] : whole < 3600 ? [Math.floor(whole / 60), 'minute'] : [Math.floor(whole / 3600), 'hour']
  return new Intl.NumberFormat(language, { style: 'unit', unit, unitDisplay: 'short' }).format(value)
}

/** A wait estimate for a customer: "about 3 minutes" (whole minutes, up), in words. */
export function formatWait(language: Language, seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60))
  return minutes < 60
    ? new Intl.NumberFormat(language, { style: 'unit', unit: 'minute', unitDisplay: 'long' }).format(minutes)
    : new Intl.NumberFormat(language, { style: 'unit', unit: 'hour', unitDisplay: 'long' }).format(Math.ceil(minutes / 60))
}

export class I18n extends Store<Language> {
  constructor(private readonly storage: Storage | null = typeof localStorage === 'undefined' ? null : localStorage) {
    super(
      pickLanguage(
        storage?.getItem(STORAGE_KEY) ?? null,
        typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language],
      ),
    )
    this.apply()
  }

  choose(language: Language): void {
    this.storage?.setItem(STORAGE_KEY, language)
    this.set(language)
    this.apply()
  }

  t = (key: MessageKey, params?: Params): string => translate(this.value, key, params)

  apply(): void {
    if (typeof document === 'undefined') return
    document.documentElement.lang = this.value
    document.documentElement.dir = direction(this.value)
  }
}

export const i18n = new I18n()

/** The translate function of the current language; re-renders on a switch. */
export function useT(): (key: MessageKey, params?: Params) => string {
  const language = useStore(i18n)
  return (key, params) => translate(language, key, params)
}

export type { MessageKey }
