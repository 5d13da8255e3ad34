import { Injectable, UnauthorizedException } from "@nestjs/common";
import { createHmac, timingSafeEqual } from "node:crypto";

const TTL_SECONDS = 2 * 60 * 60;

/**
 * A simple signed token: base64url("<user id>.<expiry>") + "." + HMAC-SHA256 of
 * it with TOKEN_SECRET. Checked at connect; no database read.
 */
@Injectable()
export class TokenService {
  private readonly secret = process.env.TOKEN_SECRET ?? "";

  constructor() {
    if (this.secret.length < 32) throw new Error("TOKEN_SECRET: 32 characters at least");
  }

  issue(userId: string): string {
    const body = Buffer.from(`${userId}.${Math.floor(Date.now() / 1000) + TTL_SECONDS}`).toString(
      "base64url",
    );
    return `${body}.${this.sign(body)}`;
  }

  /** The user id of a valid token, or null. */
  verify(token: unknown): string | null {
    if (typeof token !== "string") return null;
    const [body, signature] = token.split(".");
    if (!body || !signature) return null;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    const [userId, expiry] = Buffer.from(body, "base64url").toString().split(".");
    if (!userId || Number(expiry) < Date.now() / 1000) return null;
    return userId;
  }

  /** For REST: the user of an `Authorization: Bearer <token>` header. */
  userOf(header: string | undefined): string {
    const userId = this.verify(header?.replace(/^Bearer /, ""));
    if (!userId) throw new UnauthorizedException("a valid token is required");
    return userId;
  }

  private sign(body: string): string {
    return createHmac("sha256", this.secret).update(body).digest("base64url");
  }
}
