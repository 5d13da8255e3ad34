// The NestJS peer of goftogu's benchmarks: the stack document 004 was written
// for (NestJS + Socket.IO + TypeORM on PostgreSQL), with goftogu's
// message:send contract.
//
// usage: DATABASE_URL=postgres://... TOKEN_SECRET=... node dist/main.js <port>
import "reflect-metadata";
import { NestFactory } from "@nestjs/core";
import { IoAdapter } from "@nestjs/platform-socket.io";
import { AppModule } from "./app.module";

async function bootstrap(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
  const app = await NestFactory.create(AppModule, { logger: ["error", "warn"] });
  app.useWebSocketAdapter(new IoAdapter(app));
  app.enableShutdownHooks();
  await app.listen(port, "127.0.0.1");
}

void bootstrap();
