import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { databaseOptions } from "./config/database";
import { HealthController } from "./health.controller";
import { AuthModule } from "./modules/auth/auth.module";
import { ChatGatewayModule } from "./modules/chat-gateway/chat-gateway.module";
import { GroupModule } from "./modules/group/group.module";
import { MessageModule } from "./modules/message/message.module";
import { SingleChatModule } from "./modules/single-chat/single-chat.module";
import { UserModule } from "./modules/user/user.module";

@Module({
  imports: [
    TypeOrmModule.forRoot(databaseOptions()),
    AuthModule,
    UserModule,
    SingleChatModule,
    GroupModule,
    MessageModule,
    ChatGatewayModule,
  ],
  controllers: [HealthController],
})
export class AppModule {}
