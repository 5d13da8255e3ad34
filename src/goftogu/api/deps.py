"""Dependencies shared by every router: the container, the caller, the client."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from goftogu.bootstrap import Container
from goftogu.identity.auth import ClientInfo
from goftogu.identity.tokens import Principal
from goftogu.logs import user_id_var

_bearer = HTTPBearer(auto_error=False, description="Access token from /auth/login")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def current_principal(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller proven by ``Authorization: Bearer``; 401 with the reason otherwise."""
    principal = container.auth.tokens.verify(credentials.credentials if credentials else None)
    user_id_var.set(str(principal.user_id))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def client_info(request: Request, container: ContainerDep) -> ClientInfo:
    ip = request.client.host if request.client else None
    if container.settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            ip = forwarded.split(",")[0].strip() or ip
    return ClientInfo(ip_address=ip, user_agent=request.headers.get("user-agent"))


Client = Annotated[ClientInfo, Depends(client_info)]
