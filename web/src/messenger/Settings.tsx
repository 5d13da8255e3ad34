// The user's own settings: notifications (email, push, language) with Web Push
// from this browser when the server has VAPID keys, signed-in devices (sign out
// one, or every other), and changing the password.
import { useEffect, useState } from 'preact/hooks'
import { type ApiError, asApiError } from '../api/errors'
import type { NotificationSettings, SessionPublic } from '../api/types'
import type { App } from '../app'
import { formatDateTime, i18n, useT } from '../i18n'
import { useStore } from '../lib/store'
import { AppBar } from '../ui/AppBar'
import { ErrorBanner } from '../ui/common'

function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  const padded = (value + '='.repeat((4 - (value.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/')
  const raw = atob(padded)
  const bytes = new Uint8Array(new ArrayBuffer(raw.length))
  for (let index = 0; index < raw.length; index++) bytes[index] = raw.charCodeAt(index)
  return bytes
}

export function SettingsPage({ app }: { app: App }) {
  const t = useT()
  const language = useStore(i18n)
  const [error, setError] = useState<ApiError | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [settings, setSettings] = useState<NotificationSettings | null>(null)
  const [sessions, setSessions] = useState<SessionPublic[]>([])
  const [pushed, setPushed] = useState(false)
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const guard = async (action: () => Promise<void>) => {
    setError(null)
    try {
      await action()
    } catch (caught) {
      setError(asApiError(caught))
    }
  }
  const loadSessions = () => guard(async () => setSessions(await app.account.sessions()))
  useEffect(() => {
    document.title = t('set.title')
    void guard(async () => setSettings(await app.account.notificationSettings()))
    void loadSessions()
  }, [])
  const change = (changes: Partial<NotificationSettings>) =>
    guard(async () => {
      setSettings(await app.account.setNotificationSettings(changes))
      setNotice(t('set.saved'))
    })
  const subscribe = () =>
    guard(async () => {
      const { public_key } = await app.account.vapidKey()
      const registration = await navigator.serviceWorker.register('/push-worker.js')
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: base64UrlToBytes(public_key),
      })
      await app.account.subscribePush(subscription.toJSON())
      setPushed(true)
    })
  const signOutOthers = () =>
    guard(async () => {
      for (const session of sessions.filter((item) => !item.current)) await app.account.revokeSession(session.id)
      await loadSessions()
    })
  const changePassword = (event: Event) => {
    event.preventDefault()
    void guard(async () => {
      await app.account.changePassword(current, next)
      setCurrent('')
      setNext('')
      setNotice(t('set.password_changed'))
      await loadSessions()
    })
  }
  return (
    <div class="console">
      <AppBar app={app} />
      <main class="page stack">
        <h2>{t('set.title')}</h2>
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
        {notice && (
          <p class="banner" role="status">
            {notice}
          </p>
        )}
        <section class="card stack" aria-labelledby="notifications-title">
          <h3 id="notifications-title">{t('set.notifications')}</h3>
          {settings && (
            <>
              <label class="check">
                <input type="checkbox" checked={settings.email} onChange={(event) => void change({ email: event.currentTarget.checked })} />
                {t('set.email')}
              </label>
              <label class="check">
                <input type="checkbox" checked={settings.push} onChange={(event) => void change({ push: event.currentTarget.checked })} />
                {t('set.push')}
              </label>
              <label>
                {t('set.language')}
                <select
                  value={settings.language ?? ''}
                  onChange={(event) => void change({ language: (event.currentTarget.value || null) as NotificationSettings['language'] })}
                >
                  <option value="">{t('set.language_default')}</option>
                  <option value="en">{t('lang.en')}</option>
                  <option value="fa">{t('lang.fa')}</option>
                </select>
              </label>
            </>
          )}
          {app.config.pushConfigured && 'serviceWorker' in navigator && 'PushManager' in window ? (
            pushed ? (
              <p>{t('set.push_on')}</p>
            ) : (
              <button type="button" onClick={() => void subscribe()}>
                {t('set.push_subscribe')}
              </button>
            )
          ) : (
            <p class="hint">{t('set.push_unavailable')}</p>
          )}
        </section>
        <section class="card stack" aria-labelledby="sessions-title">
          <h3 id="sessions-title">{t('set.sessions')}</h3>
          <ul class="list" data-testid="sessions">
            {sessions.map((session) => (
              <li key={session.id} class="member">
                <span dir="auto">{session.user_agent ?? '?'}</span>
                <span class="hint">
                  {session.current ? t('set.this_device') : t('set.last_used', { when: formatDateTime(language, session.last_used_at) })}
                </span>
                {!session.current && (
                  <button type="button" onClick={() => void guard(async () => (await app.account.revokeSession(session.id), await loadSessions()))}>
                    {t('set.sign_out_device')}
                  </button>
                )}
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => void signOutOthers()} disabled={sessions.length < 2}>
            {t('set.sign_out_others')}
          </button>
        </section>
        <form class="card stack" onSubmit={changePassword} aria-labelledby="password-title">
          <h3 id="password-title">{t('set.password')}</h3>
          <label>
            {t('set.current_password')}
            <input type="password" autoComplete="current-password" required value={current} onInput={(event) => setCurrent(event.currentTarget.value)} />
          </label>
          <label>
            {t('set.new_password')}
            <input type="password" autoComplete="new-password" required value={next} onInput={(event) => setNext(event.currentTarget.value)} />
          </label>
          <button type="submit" class="primary">
            {t('set.password')}
          </button>
        </form>
      </main>
    </div>
  )
}
