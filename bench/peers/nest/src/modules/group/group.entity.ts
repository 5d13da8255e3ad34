import { Column, Entity, JoinColumn, ManyToOne, type Relation } from "typeorm";
import { ChatBaseEntity } from "../../common/entities/chat-base.entity";
import { UserEntity } from "../user/user.entity";

@Entity("groups")
export class GroupEntity extends ChatBaseEntity {
  @Column({ type: "varchar", length: 128 })
  title: string;

  @Column({ name: "owner_id", type: "uuid" })
  ownerId: string;

  @ManyToOne(() => UserEntity, { nullable: false })
  @JoinColumn({ name: "owner_id" })
  owner: Relation<UserEntity>;

  @Column({ type: "varchar", length: 2048, nullable: true })
  description: string | null;

  @Column({ name: "avatar_url", type: "varchar", nullable: true })
  avatarUrl: string | null;
}
