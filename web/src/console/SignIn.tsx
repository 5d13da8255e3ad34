import { useEffect, useState } from 'preact/hooks'
import { type ApiError, asApiError } from '../api/errors'
import type { App } from '../app'
import { useT } from '../i18n'
import { sessionEndedKey } from '../i18n/errors'
import { unlockSound } from '../lib/notify'
import { ErrorBanner, LanguageSwitch } from '../ui/common'

export function SignIn({ app, ended }: { app: App; ended: string | null }) {
  const t = useT()
  const [login, setLogin] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  useEffect(() => {
    if (performance.getEntriesByName('goftogu:interactive').length === 0) performance.mark('goftogu:interactive')
  }, [])
  const submit = async (event: Event) => {
    event.preventDefault()
    unlockSound()
    setBusy(true)
    setError(null)
    try {
      await app.session.signIn(login.trim(), password)
    } catch (caught) {
      setError(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }
  return (
    <main class="signin">
      <header class="signin-header">
        <h1>{t('app.name')}</h1>
        <LanguageSwitch />
      </header>
      {ended && !error && (
        <p class="banner banner-error" role="alert">
          {t(sessionEndedKey(ended))}
        </p>
      )}
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <form class="card stack" onSubmit={submit}>
        <h2>{t('signin.app')}</h2>
        <label>
          {t('signin.login')}
          <input
            name="login"
            autoComplete="username"
            required
            value={login}
            onInput={(event) => setLogin(event.currentTarget.value)}
          />
        </label>
        <label>
          {t('signin.password')}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
        </label>
        <button class="primary" type="submit" disabled={busy}>
          {t(busy ? 'signin.busy' : 'signin.submit')}
        </button>
        <p class="hint">{t('signin.first_admin')}</p>
      </form>
    </main>
  )
}
