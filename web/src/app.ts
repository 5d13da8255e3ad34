// The composition of a page: one API client, one session, one socket. Each entry
// (console, widget) builds one with its own storage key.
import { ApiClient } from './api/client'
import { accountApi, adminApi, authApi, messagingApi, supportApi } from './api/endpoints'
import { readConfig, type RuntimeConfig } from './lib/config'
import { Realtime } from './realtime/socket'
import { SessionStore } from './session/store'

export interface App {
  api: ApiClient
  session: SessionStore
  realtime: Realtime
  support: ReturnType<typeof supportApi>
  messaging: ReturnType<typeof messagingApi>
  account: ReturnType<typeof accountApi>
  admin: ReturnType<typeof adminApi>
  config: RuntimeConfig
}

export function createApp(storageKey: string): App {
  const api = new ApiClient()
  const session = new SessionStore(authApi(api), storageKey)
  api.tokens = session
  return {
    api,
    session,
    realtime: new Realtime(session),
    support: supportApi(api),
    messaging: messagingApi(api),
    account: accountApi(api),
    admin: adminApi(api),
    config: readConfig(),
  }
}
