// Typed calls of the REST API: the only place paths are written.
import type { ApiClient } from './client'
import type {
  OperatorPresence,
  OperatorPublic,
  OperatorStatus,
  PostedMessage,
  SupportChat,
  SupportChatPage,
  TokenPair,
} from './types'

export function authApi(api: ApiClient) {
  return {
    login: (login: string, password: string) =>
      api.post<TokenPair>('/auth/login', { login, password }, { auth: false }),
    visitor: (name: string | null, email: string | null) =>
      api.post<TokenPair>('/auth/visitor', { name, email }, { auth: false }),
    refresh: (refreshToken: string) =>
      api.post<TokenPair>('/auth/refresh', { refresh_token: refreshToken }, { auth: false }),
    logout: (refreshToken: string) => api.post<void>('/auth/logout', { refresh_token: refreshToken }),
  }
}

export function supportApi(api: ApiClient) {
  return {
    start: (clientId: string, body: string) =>
      api.post<SupportChat>('/support/chats', { client_id: clientId, body }, { idempotent: true }),
    get: (chatId: string) => api.get<SupportChat>(`/support/chats/${encodeURIComponent(chatId)}`),
    list: (query: { status?: string; type?: string; mine?: boolean; limit?: number; cursor?: string }) =>
      api.get<SupportChatPage>('/support/chats', { query }),
    send: (chatId: string, clientId: string, body: string) =>
      api.post<PostedMessage>(
        `/support/chats/${encodeURIComponent(chatId)}/messages`,
        { client_id: clientId, body },
        { idempotent: true },
      ),
    claim: (chatId: string) => api.post<SupportChat>(`/support/chats/${encodeURIComponent(chatId)}/claim`),
    transfer: (chatId: string, operatorId: string) =>
      api.post<SupportChat>(`/support/chats/${encodeURIComponent(chatId)}/transfer`, {
        operator_id: operatorId,
      }),
    close: (chatId: string) => api.post<SupportChat>(`/support/chats/${encodeURIComponent(chatId)}/close`),
    presence: () => api.get<OperatorPresence>('/support/presence'),
    setPresence: (status: OperatorStatus, accepting?: boolean) =>
      api.put<OperatorPresence>('/support/presence', { status, accepting }, { idempotent: true }),
    operators: () => api.get<OperatorPublic[]>('/support/operators'),
  }
}

export type AuthApi = ReturnType<typeof authApi>
export type SupportApi = ReturnType<typeof supportApi>
