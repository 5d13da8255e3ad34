// The app's page: sign in, then by route and role the operator console
// (/console, /console/chats/:id; notification links /support/chats/:id land
// there), the messenger (/chat, /chat/:address), settings (/settings) and the
// admin pages (/admin/users, /admin/health). The messenger and admin screens
// load as their own chunks, so the console's first load does not grow.
import { render } from 'preact'
import { lazy, Suspense } from 'preact/compat'
import { createApp } from '../app'
import { match, navigate, path } from '../lib/router'
import { useStore } from '../lib/store'
import '../styles/app.css'
import { Console } from './Console'
import { SignIn } from './SignIn'

const app = createApp('goftogu.console.session')
const MessengerPage = lazy(() => import('../messenger/Messenger').then((module) => module.MessengerPage))
const SettingsPage = lazy(() => import('../messenger/Settings').then((module) => module.SettingsPage))
const AdminPage = lazy(() => import('../admin/Admin').then((module) => module.AdminPage))

function Root() {
  const { session, ended } = useStore(app.session)
  const current = useStore(path)
  if (!session) return <SignIn app={app} ended={ended} />
  const staff = session.user.role === 'operator' || session.user.role === 'admin'
  const redirect = (to: string) => {
    navigate(to, true)
    return null
  }
  const link = match('/support/chats/:id', current)
  if (link) return redirect(`/console/chats/${link.id}`)
  if (current === '/') return redirect(staff ? '/console' : '/chat')
  const chat = match('/console/chats/:id', current)
  if (chat || current === '/console') {
    if (!staff) return redirect('/chat')
    return <Console app={app} chatId={chat?.id ?? null} />
  }
  const conversation = match('/chat/:address', current)
  let page = null
  if (conversation || current === '/chat') page = <MessengerPage app={app} address={conversation?.address ?? null} />
  else if (current === '/settings') page = <SettingsPage app={app} />
  else if (current === '/admin/users' || current === '/admin/health' || current === '/admin/teams') {
    if (session.user.role !== 'admin') return redirect('/chat')
    page = <AdminPage app={app} section={current.slice('/admin/'.length) as 'users' | 'health' | 'teams'} />
  } else if (current === '/admin') return redirect('/admin/users')
  else return redirect(staff ? '/console' : '/chat')
  return <Suspense fallback={<p class="empty">…</p>}>{page}</Suspense>
}

render(<Root />, document.getElementById('app') as HTMLElement)
