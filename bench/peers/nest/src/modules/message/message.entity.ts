import {
  Check,
  Column,
  CreateDateColumn,
  DeleteDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
  type Relation,
} from "typeorm";
import { GroupEntity } from "../group/group.entity";
import { SingleChatEntity } from "../single-chat/single-chat.entity";
import { UserEntity } from "../user/user.entity";

export type MessageType = "text" | "image" | "file";

/**
 * The core of the system (document 004, 2.2): a message belongs to exactly one
 * single chat or one group, never both, never neither (a CHECK). Its seq is
 * its place in that conversation; (sender, client id) makes a send idempotent.
 */
@Entity("messages")
@Check(
  "ck_messages_one_conversation",
  `("single_chat_id" IS NOT NULL AND "group_id" IS NULL) OR ("single_chat_id" IS NULL AND "group_id" IS NOT NULL)`,
)
@Unique("uq_messages_sender_client", ["senderId", "clientId"])
@Unique("uq_messages_group_seq", ["groupId", "seq"])
@Unique("uq_messages_single_chat_seq", ["singleChatId", "seq"])
export class MessageEntity {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "sender_id", type: "uuid" })
  senderId: string;

  @ManyToOne(() => UserEntity, { nullable: false })
  @JoinColumn({ name: "sender_id" })
  sender: Relation<UserEntity>;

  @Column({ name: "single_chat_id", type: "uuid", nullable: true })
  singleChatId: string | null;

  @ManyToOne(() => SingleChatEntity, { nullable: true })
  @JoinColumn({ name: "single_chat_id" })
  singleChat: Relation<SingleChatEntity> | null;

  @Column({ name: "group_id", type: "uuid", nullable: true })
  groupId: string | null;

  @ManyToOne(() => GroupEntity, { nullable: true })
  @JoinColumn({ name: "group_id" })
  group: Relation<GroupEntity> | null;

  @Column({ name: "client_id", type: "varchar", length: 64 })
  clientId: string;

  @Column({ type: "integer" })
  seq: number;

  @Column({ type: "text" })
  content: string;

  @Column({ name: "message_type", type: "varchar", length: 8, default: "text" })
  messageType: MessageType;

  @Column({ name: "parent_message_id", type: "uuid", nullable: true })
  parentMessageId: string | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @Column({ name: "edited_at", type: "timestamptz", nullable: true })
  editedAt: Date | null;

  @DeleteDateColumn({ name: "deleted_at", type: "timestamptz" })
  deletedAt: Date | null;
}
