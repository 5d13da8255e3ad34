import { BadRequestException, Body, Controller, Headers, Post } from "@nestjs/common";
import { TokenService } from "../auth/token.service";
import { SingleChatService } from "./single-chat.service";

@Controller("single-chats")
export class SingleChatController {
  constructor(
    private readonly chats: SingleChatService,
    private readonly tokens: TokenService,
  ) {}

  @Post()
  async open(
    @Headers("authorization") authorization: string | undefined,
    @Body() body: { user_id?: unknown },
  ) {
    const userId = this.tokens.userOf(authorization);
    if (typeof body?.user_id !== "string") throw new BadRequestException("user_id is required");
    const chat = await this.chats.open(userId, body.user_id);
    return { id: chat.id, user1_id: chat.user1Id, user2_id: chat.user2Id };
  }
}
