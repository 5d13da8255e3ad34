import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { GroupMemberEntity } from "./group-member.entity";
import { GroupController } from "./group.controller";
import { GroupEntity } from "./group.entity";
import { GroupService } from "./group.service";

@Module({
  imports: [TypeOrmModule.forFeature([GroupEntity, GroupMemberEntity])],
  controllers: [GroupController],
  providers: [GroupService],
  exports: [GroupService],
})
export class GroupModule {}
