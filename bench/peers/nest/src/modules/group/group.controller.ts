import { BadRequestException, Body, Controller, Headers, Post } from "@nestjs/common";
import { TokenService } from "../auth/token.service";
import { GroupService } from "./group.service";

@Controller("groups")
export class GroupController {
  constructor(
    private readonly groups: GroupService,
    private readonly tokens: TokenService,
  ) {}

  @Post()
  async create(
    @Headers("authorization") authorization: string | undefined,
    @Body() body: { title?: unknown; member_ids?: unknown },
  ) {
    const ownerId = this.tokens.userOf(authorization);
    const memberIds = Array.isArray(body?.member_ids) ? body.member_ids : [];
    if (typeof body?.title !== "string" || !memberIds.every((id) => typeof id === "string")) {
      throw new BadRequestException("title and member_ids are required");
    }
    const group = await this.groups.create(ownerId, body.title, memberIds);
    return { id: group.id, title: group.title };
  }
}
