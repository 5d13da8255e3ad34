// Names for the generated REST types (schema.d.ts comes from the gateway's OpenAPI).
import type { components } from './schema'

type Schemas = components['schemas']
export type TokenPair = Schemas['TokenPair']
export type UserPrivate = Schemas['UserPrivate']
export type SupportChat = Schemas['SupportChatPublic']
export type SupportChatSummary = Schemas['SupportChatSummary']
export type SupportChatPage = Schemas['SupportChatPage']
// (messaging has a MessagePublic of its own, hence the qualified name)
export type SupportMessage = Schemas['goftogu__support__schemas__MessagePublic']
export type PostedMessage = Schemas['PostedMessage']
export type OperatorPresence = Schemas['OperatorPresence']
export type OperatorPublic = Schemas['OperatorPublic']
export type RoutingEntry = Schemas['RoutingEntry']
export type OperatorStatus = Schemas['OperatorStatus']
export type ChatStatus = Schemas['ChatStatus']
