// Typed calls of the REST API: the only place paths are written.
import type { ApiClient } from './client'
import type {
  AdminStats,
  AdminUserPage,
  AttachmentPublic,
  ChatMessage,
  ConversationPage,
  GroupDetails,
  GroupPublic,
  GroupRole,
  HistoryMessage,
  MemberList,
  MemberPublic,
  MessagePage,
  MessageVersionList,
  NotificationSettings,
  NotificationSettingsUpdate,
  PinList,
  PinPublic,
  ReadState,
  ReactionList,
  ReceiptList,
  Role,
  SessionList,
  SettingsPublic,
  SingleChatPublic,
  UserAdmin,
  UserPage,
  UserPrivate,
  UserPublic,
  OperatorPresence,
  OperatorList,
  OperatorStatus,
  PostedMessage,
  SupportChat,
  SupportChatPage,
  TokenPair,
  // help desk (issue 18)
  CannedReply,
  CannedReplyList,
  CannedScope,
  CsatPublic,
  LabelsPublic,
  PostedNote,
  RenderedCannedReply,
  SupportReadState,
  Team,
  TeamCreate,
  TeamList,
  TeamOpeningList,
  TeamPatch,
  TranscriptQueued,
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

const enc = encodeURIComponent

/** The signed-in user's own account: profile, devices, password, notifications. */
export function accountApi(api: ApiClient) {
  return {
    me: () => api.get<UserPrivate>('/users/me'),
    profile: (id: string) => api.get<UserPublic>(`/users/${enc(id)}`),
    search: (q: string, cursor?: string) => api.get<UserPage>('/users', { query: { q, cursor, limit: 20 } }),
    sessions: async () => (await api.get<SessionList>('/auth/sessions')).items,
    revokeSession: (id: string) => api.request<void>('DELETE', `/auth/sessions/${enc(id)}`),
    changePassword: (current: string, next: string) =>
      api.post<void>('/auth/password', { current_password: current, new_password: next }),
    notificationSettings: () => api.get<NotificationSettings>('/users/me/notification-settings'),
    setNotificationSettings: (changes: NotificationSettingsUpdate) =>
      api.put<NotificationSettings>('/users/me/notification-settings', changes, { idempotent: true }),
    vapidKey: () => api.get<{ public_key: string }>('/push/vapid-public-key'),
    subscribePush: (subscription: PushSubscriptionJSON) => api.post<unknown>('/push/subscriptions', subscription),
  }
}

export function messagingApi(api: ApiClient) {
  return {
    conversations: (query: { archived?: boolean; cursor?: string; limit?: number } = {}) =>
      api.get<ConversationPage>('/conversations', { query }),
    openSingle: (userId: string) => api.post<SingleChatPublic>('/chats/single', { user_id: userId }, { idempotent: true }),
    history: (address: string, query: { before_seq?: number; after_seq?: number; limit?: number }) =>
      api.get<MessagePage>(`/conversations/${enc(address)}/messages`, { query }),
    send: (
      address: string,
      body: { client_id: string; content?: string | null; parent_message_id?: string | null; attachment_ids?: string[] },
    ) => api.post<ChatMessage>(`/conversations/${enc(address)}/messages`, body, { idempotent: true }),
    settings: (address: string, changes: { archived?: boolean; muted_until?: string | null }) =>
      api.put<SettingsPublic>(`/conversations/${enc(address)}/settings`, changes, { idempotent: true }),
    markRead: (address: string, upToSeq: number) =>
      api.post<ReadState>(`/conversations/${enc(address)}/read`, { up_to_seq: upToSeq }, { idempotent: true }),
    edit: (id: string, content: string) =>
      api.request<ChatMessage>('PATCH', `/messages/${enc(id)}`, { body: { content }, idempotent: true }),
    remove: (id: string) => api.request<void>('DELETE', `/messages/${enc(id)}`, { idempotent: true }),
    react: (id: string, emoji: string) =>
      api.post<unknown>(`/messages/${enc(id)}/reactions`, { emoji }, { idempotent: true }),
    reactions: async (id: string) => (await api.get<ReactionList>(`/messages/${enc(id)}/reactions`)).items,
    unreact: (id: string, emoji: string) =>
      api.request<void>('DELETE', `/messages/${enc(id)}/reactions/${enc(emoji)}`, { idempotent: true }),
    upload: (file: File, onProgress: (fraction: number) => void) =>
      api.upload<AttachmentPublic>('/attachments', file, onProgress),
    attachmentUrl: (id: string) => api.blobUrl(`/attachments/${enc(id)}`),
    readState: (address: string) => api.get<ReadState>(`/conversations/${enc(address)}/read`),
    pins: async (address: string) => (await api.get<PinList>(`/conversations/${enc(address)}/pins`)).items,
    pin: (address: string, messageId: string) =>
      api.post<PinPublic>(`/conversations/${enc(address)}/pins`, { message_id: messageId }, { idempotent: true }),
    unpin: (address: string, messageId: string) =>
      api.request<void>('DELETE', `/conversations/${enc(address)}/pins/${enc(messageId)}`, { idempotent: true }),
    message: (id: string) => api.get<HistoryMessage>(`/messages/${enc(id)}`),
    edits: async (id: string) => (await api.get<MessageVersionList>(`/messages/${enc(id)}/edits`)).items,
    reads: async (id: string) => (await api.get<ReceiptList>(`/messages/${enc(id)}/reads`)).items,
    forward: (id: string, to: string, clientId: string) =>
      api.post<ChatMessage>(`/messages/${enc(id)}/forward`, { to, client_id: clientId }, { idempotent: true }),
    createGroup: (title: string, memberIds: string[], description?: string) =>
      api.post<GroupPublic>('/groups', { title, member_ids: memberIds, description }),
    group: (id: string) => api.get<GroupDetails>(`/groups/${enc(id)}`),
    updateGroup: (id: string, changes: { title?: string; description?: string | null; avatar_url?: string | null }) =>
      api.request<GroupPublic>('PATCH', `/groups/${enc(id)}`, { body: changes }),
    members: async (id: string) => (await api.get<MemberList>(`/groups/${enc(id)}/members`)).items,
    addMember: (id: string, userId: string) => api.post<MemberPublic>(`/groups/${enc(id)}/members`, { user_id: userId }),
    setRole: (id: string, userId: string, role: GroupRole) =>
      api.request<MemberPublic>('PATCH', `/groups/${enc(id)}/members/${enc(userId)}`, { body: { role } }),
    removeMember: (id: string, userId: string) => api.request<void>('DELETE', `/groups/${enc(id)}/members/${enc(userId)}`),
    transfer: (id: string, userId: string) => api.post<GroupPublic>(`/groups/${enc(id)}/owner`, { user_id: userId }),
  }
}

export function adminApi(api: ApiClient) {
  return {
    users: (query: { q?: string; role?: Role; cursor?: string; limit?: number }) =>
      api.get<AdminUserPage>('/admin/users', { query }),
    createUser: (body: { username: string; email: string; password: string; role: Role }) =>
      api.post<UserPrivate>('/admin/users', body),
    updateUser: (id: string, changes: { role?: Role; disabled?: boolean }) =>
      api.request<UserAdmin>('PATCH', `/admin/users/${enc(id)}`, { body: changes, idempotent: true }),
    stats: () => api.get<AdminStats>('/admin/stats'),
  }
}

export type AccountApi = ReturnType<typeof accountApi>
export type MessagingApi = ReturnType<typeof messagingApi>
export type AdminApi = ReturnType<typeof adminApi>
export type { AttachmentPublic }

export function supportApi(api: ApiClient) {
  return {
    start: (clientId: string, body: string, team?: string | null) =>
      api.post<SupportChat>('/support/chats', { client_id: clientId, body, team: team || undefined }, { idempotent: true }),
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
    operators: async () => (await api.get<OperatorList>('/support/operators')).items,
    // help desk (issue 18): notes, labels, canned replies, CSAT, transcripts, read state, teams
    note: (chatId: string, clientId: string, body: string) =>
      api.post<PostedNote>(`/support/chats/${enc(chatId)}/notes`, { client_id: clientId, body }, { idempotent: true }),
    addLabel: (chatId: string, label: string) =>
      api.put<LabelsPublic>(`/support/chats/${enc(chatId)}/labels/${enc(label)}`, undefined, { idempotent: true }),
    removeLabel: (chatId: string, label: string) =>
      api.request<LabelsPublic>('DELETE', `/support/chats/${enc(chatId)}/labels/${enc(label)}`, { idempotent: true }),
    labelled: (label: string, cursor?: string) =>
      api.get<SupportChatPage>('/support/chats', { query: { label, cursor, limit: 50 } }),
    cannedReplies: async (q?: string, limit = 20) =>
      (await api.get<CannedReplyList>('/support/canned-replies', { query: { q, limit } })).items,
    createCanned: (body: { scope: CannedScope; team_id?: string | null; shortcode: string; title: string; body: string }) =>
      api.post<CannedReply>('/support/canned-replies', body),
    updateCanned: (id: string, changes: { shortcode?: string; title?: string; body?: string }) =>
      api.request<CannedReply>('PATCH', `/support/canned-replies/${enc(id)}`, { body: changes, idempotent: true }),
    deleteCanned: (id: string) => api.request<void>('DELETE', `/support/canned-replies/${enc(id)}`, { idempotent: true }),
    renderCanned: (chatId: string, shortcode: string) =>
      api.get<RenderedCannedReply>(`/support/chats/${enc(chatId)}/canned-replies/${enc(shortcode)}`),
    rate: (chatId: string, score: number, comment: string | null) =>
      api.post<CsatPublic>(`/support/chats/${enc(chatId)}/csat`, { score, comment }),
    transcript: (chatId: string, clientId: string) =>
      api.post<TranscriptQueued>(`/support/chats/${enc(chatId)}/transcript`, { client_id: clientId }, { idempotent: true }),
    readState: (chatId: string) => api.get<SupportReadState>(`/conversations/support:${enc(chatId)}/read`),
    markRead: (chatId: string, upToSeq: number) =>
      api.post<SupportReadState>(`/conversations/support:${enc(chatId)}/read`, { up_to_seq: upToSeq }, { idempotent: true }),
    topics: async () => (await api.get<TeamOpeningList>('/support/topics')).items,
    teams: async () => (await api.get<TeamList>('/support/teams')).items,
    createTeam: (body: TeamCreate) => api.post<Team>('/support/teams', body),
    updateTeam: (id: string, changes: TeamPatch) =>
      api.request<Team>('PATCH', `/support/teams/${enc(id)}`, { body: changes, idempotent: true }),
    addMember: (teamId: string, userId: string) =>
      api.put<Team>(`/support/teams/${enc(teamId)}/members/${enc(userId)}`, undefined, { idempotent: true }),
    removeMember: (teamId: string, userId: string) =>
      api.request<Team>('DELETE', `/support/teams/${enc(teamId)}/members/${enc(userId)}`, { idempotent: true }),
    setCapacity: (operatorId: string, capacity: number | null) =>
      api.put<OperatorPresence>(`/support/operators/${enc(operatorId)}/capacity`, { capacity }, { idempotent: true }),
  }
}

export type AuthApi = ReturnType<typeof authApi>
export type SupportApi = ReturnType<typeof supportApi>
