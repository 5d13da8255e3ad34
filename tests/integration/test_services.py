"""A round trip through each real backing service of scripts/services."""

import asyncio
import uuid
from typing import Any

import aio_pika
from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from sqlalchemy import text

from goftogu.storage.database import Database


async def test_postgres_answers_a_query(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        async with db.transaction() as session:
            version = (await session.execute(text("SHOW server_version"))).scalar_one()
        assert int(version.split(".")[0]) >= 13
    finally:
        await db.close()


async def test_redis_stores_and_returns_a_value(redis_url: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        await client.set("goftogu:roundtrip", "سلام", ex=10)
        assert await client.get("goftogu:roundtrip") == "سلام"
    finally:
        await client.aclose()


async def test_rabbitmq_delivers_a_persistent_message(broker_url: str) -> None:
    connection = await aio_pika.connect(broker_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(f"test.roundtrip.{uuid.uuid4().hex}", auto_delete=True)
        await channel.default_exchange.publish(
            aio_pika.Message(b"ping", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=queue.name,
        )
        message = await queue.get(timeout=5)
        assert message is not None
        await message.ack()
        assert message.body == b"ping"
    finally:
        await connection.close()


async def test_the_mongodb_protocol_server_stores_and_finds_a_document(mongodb_url: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    try:
        chats = client.get_default_database()["chats"]
        await chats.insert_one({"_id": "c1", "status": "PENDING", "messages": [{"body": "سلام"}]})
        found = await asyncio.wait_for(chats.find_one({"_id": "c1"}), 5)
        assert found is not None
        assert found["messages"][0]["body"] == "سلام"
    finally:
        await client.close()
