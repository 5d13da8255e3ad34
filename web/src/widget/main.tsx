import { render } from 'preact'
import { createApp } from '../app'
import '../styles/widget.css'
import { WidgetStore } from '../support/widget'
import { HostBridge } from './bridge'
import { Widget } from './Widget'

const app = createApp('goftogu.widget.session')
const store = new WidgetStore(app, new URLSearchParams(location.search).get('topic'))
const bridge = new HostBridge(app.config.widgetOrigins, (message) => {
  if (message.type === 'goftogu:open') {
    ;(document.querySelector('[data-autofocus]') as HTMLElement | null)?.focus()
  }
})

render(<Widget app={app} store={store} bridge={bridge} />, document.getElementById('app') as HTMLElement)
void store.init()
bridge.post({ type: 'goftogu:ready' })
