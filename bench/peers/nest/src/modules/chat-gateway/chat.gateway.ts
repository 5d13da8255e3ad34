import { Logger } from "@nestjs/common";
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from "@nestjs/websockets";
import type { Server, Socket } from "socket.io";
import { ChatError } from "../../common/chat-error";
import { TokenService } from "../auth/token.service";
import { GroupService } from "../group/group.service";
import { MessageEntity } from "../message/message.entity";
import { MessageService, parseConversation, type Conversation } from "../message/message.service";
import { SingleChatService } from "../single-chat/single-chat.service";

const MAX_CONTENT = 4000;

type Ack = { ok: true; data: unknown } | { ok: false; error: { code: string; message: string } };

/**
 * The chat gateway of document 004 (section 4): rooms `single:{id}` and
 * `group:{id}`; after authentication a socket joins the rooms of its open chats
 * and active groups. `message:send` `{conversation, client_id, content}` is
 * acked `{ok: true, data: {message}}` and the message goes to the room as
 * `message:new` `{conversation, seq, message}`, as goftogu's contract has it.
 */
@WebSocketGateway({ transports: ["websocket", "polling"] })
export class ChatGateway implements OnGatewayInit {
  @WebSocketServer()
  server: Server;

  private readonly logger = new Logger(ChatGateway.name);

  constructor(
    private readonly tokens: TokenService,
    private readonly groups: GroupService,
    private readonly singleChats: SingleChatService,
    private readonly messages: MessageService,
  ) {}

  afterInit(server: Server): void {
    // Token auth at connect: a bad token is a connect error; the rooms are
    // joined before the client is told it is connected.
    server.use(async (socket, next) => {
      const userId = this.tokens.verify(socket.handshake.auth?.token);
      if (!userId) return next(new Error("unauthorized"));
      try {
        socket.data.userId = userId;
        const [groupIds, chatIds] = await Promise.all([
          this.groups.activeGroupIds(userId),
          this.singleChats.chatIdsOf(userId),
        ]);
        await socket.join([...groupIds.map((id) => `group:${id}`), ...chatIds.map((id) => `single:${id}`)]);
        next();
      } catch (error) {
        this.logger.error(`connect of ${userId} failed: ${error}`);
        next(new Error("internal_error"));
      }
    });
  }

  @SubscribeMessage("message:send")
  async send(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    try {
      const payload = (body ?? {}) as { conversation?: unknown; client_id?: unknown; content?: unknown };
      const conversation = parseConversation(payload.conversation);
      const clientId = payload.client_id;
      const content = payload.content;
      if (typeof clientId !== "string" || clientId.length < 1 || clientId.length > 64) {
        throw new ChatError("validation_error", "client_id: 1 to 64 characters");
      }
      if (typeof content !== "string" || content.length < 1 || content.length > MAX_CONTENT) {
        throw new ChatError("validation_error", `content: 1 to ${MAX_CONTENT} characters`);
      }
      const { message, created } = await this.messages.send(
        socket.data.userId,
        conversation,
        clientId,
        content,
      );
      const view = publicMessage(message, conversation);
      if (created) {
        this.server.to(conversation.address).emit("message:new", {
          conversation: conversation.address,
          seq: message.seq,
          message: view,
        });
      }
      return { ok: true, data: { message: view } };
    } catch (error) {
      if (error instanceof ChatError) return { ok: false, error: { code: error.code, message: error.message } };
      this.logger.error(`message:send failed: ${error}`);
      return { ok: false, error: { code: "internal_error", message: "could not send" } };
    }
  }
}

function publicMessage(message: MessageEntity, conversation: Conversation) {
  return {
    id: message.id,
    conversation: conversation.address,
    sender_id: message.senderId,
    client_id: message.clientId,
    seq: message.seq,
    message_type: message.messageType,
    content: message.content,
    parent_message_id: message.parentMessageId,
    created_at: message.createdAt,
  };
}
