import { BadRequestException, Injectable } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { Repository } from "typeorm";
import { SingleChatEntity } from "./single-chat.entity";

@Injectable()
export class SingleChatService {
  constructor(
    @InjectRepository(SingleChatEntity) private readonly chats: Repository<SingleChatEntity>,
  ) {}

  /** The chat of two users, opened once: the pair stored as user1 < user2. */
  async open(a: string, b: string): Promise<SingleChatEntity> {
    if (a === b) throw new BadRequestException("a chat needs two users");
    const [user1Id, user2Id] = a < b ? [a, b] : [b, a];
    await this.chats.upsert({ user1Id, user2Id }, { conflictPaths: ["user1Id", "user2Id"] });
    return this.chats.findOneByOrFail({ user1Id, user2Id });
  }

  async chatIdsOf(userId: string): Promise<string[]> {
    const rows = await this.chats.find({
      select: { id: true },
      where: [{ user1Id: userId }, { user2Id: userId }],
    });
    return rows.map((row) => row.id);
  }
}
