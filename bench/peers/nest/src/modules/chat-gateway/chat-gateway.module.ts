import { Module } from "@nestjs/common";
import { GroupModule } from "../group/group.module";
import { MessageModule } from "../message/message.module";
import { SingleChatModule } from "../single-chat/single-chat.module";
import { ChatGateway } from "./chat.gateway";

@Module({
  imports: [GroupModule, SingleChatModule, MessageModule],
  providers: [ChatGateway],
})
export class ChatGatewayModule {}
