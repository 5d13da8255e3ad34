"""``goftogu demo``: a newcomer's two-minute path to an operator and a customer talking.

Seeds three staff accounts (idempotent: the same accounts every run, each with a
new password printed), and serves a page of a pretend shop on a second port that
embeds the support widget, the way a customer's site would.
"""

from __future__ import annotations

import html
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from goftogu.bootstrap import Container
from goftogu.identity.accounts import NewAccount
from goftogu.identity.models import Role

DEMO_STAFF = (
    ("demo-admin", Role.admin, "Admin"),
    ("demo-sara", Role.operator, "Sara"),
    ("demo-omid", Role.operator, "Omid"),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    password: str
    created: bool


async def seed_demo_staff(container: Container) -> list[DemoAccount]:
    """Create the demo staff when missing, and give each a fresh password."""
    accounts = []
    for username, role, display_name in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        existing = await container.accounts.set_password(username, password)
        if existing is None:
            user = await container.accounts.register(
                NewAccount(username, f"{username}@example.com", password, role)
            )
            await container.accounts.set_display_name(user.id, display_name)
        accounts.append(DemoAccount(username, role, password, created=existing is None))
    return accounts


def host_page(gateway_url: str) -> bytes:
    """A third-party page with the widget snippet, as the README documents it."""
    url = html.escape(gateway_url, quote=True)
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop</title>
<style>body {{ font: 16px/1.5 Georgia, serif; margin: 0; background: #fbf6ee; color: #3b2f25; }}
main {{ max-width: 40rem; margin: 0 auto; padding: 2rem; }} h1 {{ font-size: 2.2rem; }}</style>
</head>
<body><main>
<h1>Demo shop</h1>
<p>This page stands for any customer's website, on another origin than goftogu.
The chat button in the corner is the support widget: one script tag.</p>
<pre>&lt;script src="{url}/widget.js" data-goftogu-url="{url}" async&gt;&lt;/script&gt;</pre>
</main>
<script src="{url}/widget.js" data-goftogu-url="{url}" async></script>
</body></html>
""".encode()


def serve_host_page(host: str, port: int, gateway_url: str) -> ThreadingHTTPServer:
    """Serve the demo page on ``host:port`` from a background thread."""
    body = host_page(gateway_url)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] not in ("/", "/index.html"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="demo-host-page", daemon=True).start()
    return server
