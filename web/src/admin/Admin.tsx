// Admin pages: users (search, paging, create, role, disable / enable) and a
// small health page (/readyz backends, version, counts).
import { useEffect, useState } from 'preact/hooks'
import { type ApiError, asApiError } from '../api/errors'
import type { AdminStats, Role, UserAdmin } from '../api/types'
import type { App } from '../app'
import { formatNumber, i18n, type MessageKey, useT } from '../i18n'
import { navigate } from '../lib/router'
import { useStore } from '../lib/store'
import { AppBar } from '../ui/AppBar'
import { ErrorBanner } from '../ui/common'
import { Teams } from './Teams'

const ROLES: Role[] = ['customer', 'operator', 'admin']

export function AdminPage({ app, section }: { app: App; section: 'users' | 'health' | 'teams' }) {
  const t = useT()
  return (
    <div class="console">
      <AppBar app={app} />
      <div class="page stack">
        <nav class="tabs" aria-label={t('nav.admin')}>
          {(['users', 'teams', 'health'] as const).map((name) => (
            <a
              key={name}
              href={`/admin/${name}`}
              aria-current={section === name ? 'page' : undefined}
              onClick={(event) => {
                event.preventDefault()
                navigate(`/admin/${name}`)
              }}
            >
              {t(name === 'users' ? 'adm.users' : name === 'teams' ? 'adm.teams' : 'adm.health')}
            </a>
          ))}
        </nav>
        {section === 'users' ? <Users app={app} /> : section === 'teams' ? <Teams app={app} /> : <Health app={app} />}
      </div>
    </div>
  )
}

function Users({ app }: { app: App }) {
  const t = useT()
  const [query, setQuery] = useState('')
  const [role, setRole] = useState<Role | ''>('')
  const [items, setItems] = useState<UserAdmin[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const me = app.session.user?.id
  const load = async (more: boolean) => {
    try {
      const page = await app.admin.users({
        q: query.trim() || undefined,
        role: role || undefined,
        cursor: more ? (cursor ?? undefined) : undefined,
        limit: 20,
      })
      setItems(more ? [...items, ...page.items] : page.items)
      setCursor(page.has_more ? (page.next_cursor ?? null) : null)
    } catch (caught) {
      setError(asApiError(caught))
    }
  }
  useEffect(() => {
    document.title = t('adm.users')
    const timer = setTimeout(() => void load(false), 200)
    return () => clearTimeout(timer)
  }, [query, role])
  const update = async (user: UserAdmin, changes: { role?: Role; disabled?: boolean }) => {
    setError(null)
    try {
      const changed = await app.admin.updateUser(user.id, changes)
      setItems(items.map((item) => (item.id === changed.id ? changed : item)))
    } catch (caught) {
      setError(asApiError(caught))
    }
  }
  return (
    <section class="stack" aria-labelledby="users-title">
      <h2 id="users-title">{t('adm.users')}</h2>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {notice && (
        <p class="banner" role="status">
          {notice}
        </p>
      )}
      <div class="actions">
        <label>
          {t('adm.search')}
          <input type="search" value={query} onInput={(event) => setQuery(event.currentTarget.value)} />
        </label>
        <label>
          {t('adm.role')}
          <select value={role} onChange={(event) => setRole(event.currentTarget.value as Role | '')}>
            <option value="">{t('adm.all_roles')}</option>
            {ROLES.map((name) => (
              <option key={name} value={name}>
                {t(`adm.role.${name}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <table class="table" data-testid="users">
        <thead>
          <tr>
            <th scope="col">{t('adm.username')}</th>
            <th scope="col">{t('adm.email')}</th>
            <th scope="col">{t('adm.role')}</th>
            <th scope="col">{t('adm.status')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((user) => {
            const name = user.display_name || user.username
            return (
              <tr key={user.id} data-user={user.username}>
                <td dir="auto">
                  {user.username}
                  {user.display_name && <span class="hint"> · {user.display_name}</span>}
                </td>
                <td>{user.email}</td>
                <td>
                  <select
                    aria-label={t('adm.role_of', { name })}
                    value={user.role}
                    disabled={user.id === me || user.is_visitor}
                    onChange={(event) => void update(user, { role: event.currentTarget.value as Role })}
                  >
                    {ROLES.map((value) => (
                      <option key={value} value={value}>
                        {t(`adm.role.${value}` as MessageKey)}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <span class={`tag ${user.disabled ? 'tag-ticket' : ''}`}>{t(user.disabled ? 'adm.disabled' : 'adm.enabled')}</span>{' '}
                  {user.id !== me && (
                    <button type="button" onClick={() => void update(user, { disabled: !user.disabled })}>
                      {t(user.disabled ? 'adm.enable' : 'adm.disable', { name })}
                    </button>
                  )}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {cursor && (
        <button type="button" onClick={() => void load(true)}>
          {t('adm.more')}
        </button>
      )}
      <CreateUser
        app={app}
        onCreated={(name) => {
          setNotice(t('adm.created', { name }))
          void load(false)
        }}
        onError={setError}
      />
    </section>
  )
}

function CreateUser({ app, onCreated, onError }: { app: App; onCreated: (name: string) => void; onError: (error: ApiError) => void }) {
  const t = useT()
  const [username, setUsername] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [role, setRole] = useState<Role>('operator')
  const submit = async (event: Event) => {
    event.preventDefault()
    try {
      const user = await app.admin.createUser({ username: username.trim(), email: email.trim(), password, role })
      setUsername('')
      setEmail('')
      setPassword('')
      onCreated(user.username)
    } catch (caught) {
      onError(asApiError(caught))
    }
  }
  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="create-title">
      <h3 id="create-title">{t('adm.create')}</h3>
      <label>
        {t('adm.username')}
        <input required minLength={3} maxLength={32} value={username} onInput={(event) => setUsername(event.currentTarget.value)} />
      </label>
      <label>
        {t('adm.email')}
        <input type="email" required value={email} onInput={(event) => setEmail(event.currentTarget.value)} />
      </label>
      <label>
        {t('adm.password')}
        <input type="password" autoComplete="new-password" required value={password} onInput={(event) => setPassword(event.currentTarget.value)} />
      </label>
      <label>
        {t('adm.role')}
        <select value={role} onChange={(event) => setRole(event.currentTarget.value as Role)}>
          <option value="operator">{t('adm.role.operator')}</option>
          <option value="admin">{t('adm.role.admin')}</option>
        </select>
      </label>
      <button type="submit" class="primary">
        {t('adm.create')}
      </button>
    </form>
  )
}

interface Readiness {
  status: string
  failing: string[]
  backends: Record<string, { status: string; error?: string; [key: string]: unknown }>
}

function Health({ app }: { app: App }) {
  const t = useT()
  const language = useStore(i18n)
  const [ready, setReady] = useState<{ ok: boolean; report: Readiness } | null>(null)
  const [stats, setStats] = useState<AdminStats | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const load = async () => {
    try {
      const response = await fetch('/readyz')
      setReady({ ok: response.ok, report: (await response.json()) as Readiness })
      setStats(await app.admin.stats())
    } catch (caught) {
      setError(asApiError(caught))
    }
  }
  useEffect(() => {
    document.title = t('adm.health')
    void load()
  }, [])
  const backends = ready ? Object.entries(ready.report.backends ?? {}) : []
  return (
    <section class="stack" aria-labelledby="health-title">
      <h2 id="health-title">{t('adm.health')}</h2>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {stats && <p data-testid="version">{t('adm.version', { version: stats.version })}</p>}
      <h3>{t('adm.backends')}</h3>
      <ul class="list" data-testid="backends">
        {backends.map(([name, check]) => {
          const ok = check.status === 'ok'
          return (
            <li key={name} class="member">
              <span class={`dot ${ok ? 'dot-online' : ''}`} aria-hidden="true" />
              <span>{name}</span>
              <span class="hint">{t(ok ? 'adm.ready' : 'adm.not_ready')}</span>
              {check.error && <span class="hint">{check.error}</span>}
            </li>
          )
        })}
      </ul>
      {stats && (
        <>
          <h3>{t('adm.counts')}</h3>
          <dl class="counts" data-testid="counts">
            {[...Object.entries(stats.users), ...Object.entries(stats.messaging)].map(([name, value]) => (
              <div key={name}>
                <dt>{t(`adm.count.${name}` as MessageKey)}</dt>
                <dd>{formatNumber(language, value as number)}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
      <button type="button" onClick={() => void load()}>
        {t('adm.refresh')}
      </button>
    </section>
  )
}
