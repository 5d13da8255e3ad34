import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { SingleChatController } from "./single-chat.controller";
import { SingleChatEntity } from "./single-chat.entity";
import { SingleChatService } from "./single-chat.service";

@Module({
  imports: [TypeOrmModule.forFeature([SingleChatEntity])],
  controllers: [SingleChatController],
  providers: [SingleChatService],
  exports: [SingleChatService],
})
export class SingleChatModule {}
