import type { TypeOrmModuleOptions } from "@nestjs/typeorm";
import { GroupMemberEntity } from "../modules/group/group-member.entity";
import { GroupEntity } from "../modules/group/group.entity";
import { MessageEntity } from "../modules/message/message.entity";
import { SingleChatEntity } from "../modules/single-chat/single-chat.entity";
import { UserEntity } from "../modules/user/user.entity";

/**
 * PostgreSQL at DATABASE_URL (a database of the peer's own). The schema comes
 * from the entities (`synchronize`, on a fresh database each run); the pool
 * keeps 20 connections, as goftogu's does.
 */
export function databaseOptions(): TypeOrmModuleOptions {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is required");
  return {
    type: "postgres",
    url,
    entities: [UserEntity, SingleChatEntity, GroupEntity, GroupMemberEntity, MessageEntity],
    synchronize: true,
    logging: false,
    extra: { max: 20 },
  };
}
