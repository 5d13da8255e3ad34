import { Column, CreateDateColumn, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

/**
 * What a single chat and a group share (document 004, 2.1): concrete table
 * inheritance, so each has a table of its own (`single_chats`, `groups`).
 * `lastSeq` is the conversation's counter: each message takes the next seq.
 */
export abstract class ChatBaseEntity {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "last_seq", type: "integer", default: 0 })
  lastSeq: number;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
