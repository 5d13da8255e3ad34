import { Check, Column, Entity, JoinColumn, ManyToOne, Unique, type Relation } from "typeorm";
import { ChatBaseEntity } from "../../common/entities/chat-base.entity";
import { UserEntity } from "../user/user.entity";

/** One chat per pair of users, the pair in a fixed order (document 004, 2.3). */
@Entity("single_chats")
@Check("ck_single_chats_ordered_pair", `"user1_id" < "user2_id"`)
@Unique("uq_single_chats_pair", ["user1Id", "user2Id"])
export class SingleChatEntity extends ChatBaseEntity {
  @Column({ name: "user1_id", type: "uuid" })
  user1Id: string;

  @ManyToOne(() => UserEntity, { nullable: false })
  @JoinColumn({ name: "user1_id" })
  user1: Relation<UserEntity>;

  @Column({ name: "user2_id", type: "uuid" })
  user2Id: string;

  @ManyToOne(() => UserEntity, { nullable: false })
  @JoinColumn({ name: "user2_id" })
  user2: Relation<UserEntity>;
}
