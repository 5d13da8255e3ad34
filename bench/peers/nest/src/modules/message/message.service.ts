import { Injectable } from "@nestjs/common";
import { DataSource, EntityManager, IsNull, QueryFailedError } from "typeorm";
import { ChatError } from "../../common/chat-error";
import { GroupMemberEntity } from "../group/group-member.entity";
import { GroupEntity } from "../group/group.entity";
import { SingleChatEntity } from "../single-chat/single-chat.entity";
import { MessageEntity } from "./message.entity";

export interface Conversation {
  kind: "single" | "group";
  id: string;
  address: string; // the room: `single:{id}` or `group:{id}`
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseConversation(address: unknown): Conversation {
  if (typeof address !== "string") throw new ChatError("validation_error", "conversation");
  const [kind, id] = address.split(":");
  if ((kind !== "single" && kind !== "group") || !UUID.test(id ?? "")) {
    throw new ChatError("validation_error", "conversation must be single:<id> or group:<id>");
  }
  return { kind, id, address };
}

@Injectable()
export class MessageService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Store a message in one transaction: the conversation's row locked (its
   * next seq), the sender's membership checked, the message saved. A repeated
   * (sender, client id) answers the first message with `created: false`.
   */
  async send(
    senderId: string,
    conversation: Conversation,
    clientId: string,
    content: string,
  ): Promise<{ message: MessageEntity; created: boolean }> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const earlier = await manager.findOneBy(MessageEntity, { senderId, clientId });
        if (earlier) return { message: earlier, created: false };
        const chat = await this.lockConversation(manager, conversation);
        await this.requireMember(manager, conversation, chat, senderId);
        chat.lastSeq += 1;
        await manager.save(chat);
        const message = manager.create(MessageEntity, {
          senderId,
          clientId,
          content,
          messageType: "text",
          seq: chat.lastSeq,
          singleChatId: conversation.kind === "single" ? conversation.id : null,
          groupId: conversation.kind === "group" ? conversation.id : null,
        });
        return { message: await manager.save(message), created: true };
      });
    } catch (error) {
      // Two sends of one client id racing: the first one wins, the other answers it.
      if (error instanceof QueryFailedError && String(error.message).includes("uq_messages_sender_client")) {
        const earlier = await this.dataSource.manager.findOneBy(MessageEntity, { senderId, clientId });
        if (earlier) return { message: earlier, created: false };
      }
      throw error;
    }
  }

  private async lockConversation(
    manager: EntityManager,
    conversation: Conversation,
  ): Promise<GroupEntity | SingleChatEntity> {
    const entity = conversation.kind === "group" ? GroupEntity : SingleChatEntity;
    const chat = await manager.findOne<GroupEntity | SingleChatEntity>(entity, {
      where: { id: conversation.id },
      lock: { mode: "pessimistic_write" },
    });
    if (!chat) throw new ChatError("not_found", "no such conversation");
    return chat;
  }

  private async requireMember(
    manager: EntityManager,
    conversation: Conversation,
    chat: GroupEntity | SingleChatEntity,
    userId: string,
  ): Promise<void> {
    if (chat instanceof SingleChatEntity) {
      if (chat.user1Id !== userId && chat.user2Id !== userId) {
        throw new ChatError("not_a_member", "not a member of this conversation");
      }
      return;
    }
    const member = await manager.exists(GroupMemberEntity, {
      where: { groupId: conversation.id, userId, leftAt: IsNull() },
    });
    if (!member) throw new ChatError("not_a_member", "not a member of this conversation");
  }
}
