// The bar above the messenger, settings and admin pages: where you are, where
// else you may go (by role), who you are, the language, signing out.
import type { App } from '../app'
import { useT } from '../i18n'
import { navigate, path } from '../lib/router'
import { useStore } from '../lib/store'
import { LanguageSwitch } from './common'

export function NavLinks({ app }: { app: App }) {
  const t = useT()
  const current = useStore(path)
  const role = app.session.user?.role
  const links: Array<[string, string]> = [
    ...(role === 'operator' || role === 'admin' ? [['/console', t('nav.console')] as [string, string]] : []),
    ['/chat', t('nav.messages')],
    ...(role === 'admin' ? [['/admin/users', t('nav.admin')] as [string, string]] : []),
    ['/settings', t('nav.settings')],
  ]
  return (
    <nav class="nav" aria-label={t('nav.label')}>
      {links.map(([href, label]) => (
        <a
          key={href}
          href={href}
          aria-current={current.startsWith(href.split('/').slice(0, 2).join('/')) ? 'page' : undefined}
          onClick={(event) => {
            event.preventDefault()
            navigate(href)
          }}
        >
          {label}
        </a>
      ))}
    </nav>
  )
}

export function AppBar({ app }: { app: App }) {
  const t = useT()
  const user = app.session.user
  return (
    <header class="topbar">
      <h1 class="brand">{t('app.name')}</h1>
      <NavLinks app={app} />
      <div class="topbar-end">
        <span class="user" dir="auto">
          {user?.display_name || user?.username}
        </span>
        <LanguageSwitch />
        <button type="button" onClick={() => void app.session.signOut()}>
          {t('signout')}
        </button>
      </div>
    </header>
  )
}
