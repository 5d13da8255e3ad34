// Web Push for the messenger: show what the notifier sent ({title, body, url}),
// and open (or focus) the app at its link on a click.
self.addEventListener('push', (event) => {
  let data = {}
  try {
    data = event.data ? event.data.json() : {}
  } catch {
    data = { body: event.data ? event.data.text() : '' }
  }
  event.waitUntil(
    self.registration.showNotification(data.title || 'goftogu', {
      body: data.body || '',
      tag: data.tag || undefined,
      data: { url: data.url || '/chat' },
    }),
  )
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const url = (event.notification.data && event.notification.data.url) || '/chat'
  event.waitUntil(
    self.clients.matchAll({ type: 'window' }).then((windows) => {
      for (const client of windows) if ('focus' in client) return client.navigate(url).then((c) => c && c.focus())
      return self.clients.openWindow(url)
    }),
  )
})
