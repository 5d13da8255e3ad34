// The console's page: sign in, then the console; client routes
// /console and /console/chats/:id (links in notifications use /support/chats/:id).
import { render } from 'preact'
import { createApp } from '../app'
import { match, navigate, path } from '../lib/router'
import { useStore } from '../lib/store'
import '../styles/app.css'
import { Console } from './Console'
import { SignIn } from './SignIn'

const app = createApp('goftogu.console.session')

function Root() {
  const { session, ended } = useStore(app.session)
  const current = useStore(path)
  if (!session) return <SignIn app={app} ended={ended} />
  const link = match('/support/chats/:id', current)
  if (link) {
    navigate(`/console/chats/${link.id}`, true)
    return null
  }
  const chat = match('/console/chats/:id', current)
  if (!chat && current !== '/console') {
    navigate('/console', true)
    return null
  }
  return <Console app={app} chatId={chat?.id ?? null} />
}

render(<Root />, document.getElementById('app') as HTMLElement)
