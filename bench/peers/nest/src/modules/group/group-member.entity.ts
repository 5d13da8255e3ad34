import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  type Relation,
} from "typeorm";
import { UserEntity } from "../user/user.entity";
import { GroupEntity } from "./group.entity";

export type GroupRole = "owner" | "admin" | "member";

/**
 * A membership; active while `leftAt` is null, and at most one active
 * membership per (group, user): a partial unique index (document 004, 2.4).
 * The owner is a member too, with the role `owner`.
 */
@Entity("group_members")
@Index("uq_group_members_active", ["groupId", "userId"], {
  unique: true,
  where: `"left_at" IS NULL`,
})
@Index("ix_group_members_user", ["userId"])
@Check("ck_group_members_role", `"role" IN ('owner', 'admin', 'member')`)
export class GroupMemberEntity {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "group_id", type: "uuid" })
  groupId: string;

  @ManyToOne(() => GroupEntity, { nullable: false })
  @JoinColumn({ name: "group_id" })
  group: Relation<GroupEntity>;

  @Column({ name: "user_id", type: "uuid" })
  userId: string;

  @ManyToOne(() => UserEntity, { nullable: false })
  @JoinColumn({ name: "user_id" })
  user: Relation<UserEntity>;

  @Column({ type: "varchar", length: 8 })
  role: GroupRole;

  @Column({ name: "joined_at", type: "timestamptz", default: () => "now()" })
  joinedAt: Date;

  @Column({ name: "left_at", type: "timestamptz", nullable: true })
  leftAt: Date | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
