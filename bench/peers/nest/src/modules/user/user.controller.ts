import { BadRequestException, Body, Controller, Post } from "@nestjs/common";
import { TokenService } from "../auth/token.service";
import { UserService } from "./user.service";

@Controller("users")
export class UserController {
  constructor(
    private readonly users: UserService,
    private readonly tokens: TokenService,
  ) {}

  /** Sign up (the benchmark's set-up): the user and an access token. */
  @Post()
  async register(@Body() body: { username?: unknown; email?: unknown }) {
    if (typeof body?.username !== "string" || typeof body?.email !== "string") {
      throw new BadRequestException("username and email are required");
    }
    const user = await this.users.register(body.username, body.email);
    return { id: user.id, username: user.username, token: this.tokens.issue(user.id) };
  }
}
