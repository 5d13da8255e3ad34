import { Injectable } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { DataSource, IsNull, Repository } from "typeorm";
import { GroupMemberEntity } from "./group-member.entity";
import { GroupEntity } from "./group.entity";

@Injectable()
export class GroupService {
  constructor(
    private readonly dataSource: DataSource,
    @InjectRepository(GroupMemberEntity) private readonly members: Repository<GroupMemberEntity>,
  ) {}

  /** A group with its owner as a member (role `owner`) and the others (`member`). */
  create(ownerId: string, title: string, memberIds: string[]): Promise<GroupEntity> {
    return this.dataSource.transaction(async (manager) => {
      const group = await manager.save(manager.create(GroupEntity, { title, ownerId }));
      const people = [ownerId, ...new Set(memberIds.filter((id) => id !== ownerId))];
      await manager.save(
        people.map((userId) =>
          manager.create(GroupMemberEntity, {
            groupId: group.id,
            userId,
            role: userId === ownerId ? "owner" : "member",
          }),
        ),
      );
      return group;
    });
  }

  /** The groups the user is an active member of. */
  async activeGroupIds(userId: string): Promise<string[]> {
    const rows = await this.members.find({
      select: { groupId: true },
      where: { userId, leftAt: IsNull() },
    });
    return rows.map((row) => row.groupId);
  }
}
