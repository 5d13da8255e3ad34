"""The identity services of a process, built once (``container.accounts``, ``.auth``)."""

from __future__ import annotations

from goftogu.admission import Gate
from goftogu.identity.accounts import Accounts
from goftogu.identity.auth import Authentication, AuthRules
from goftogu.identity.passwords import PasswordHashes
from goftogu.identity.revocations import SessionRevocations
from goftogu.identity.tokens import AccessTokens
from goftogu.ratelimit import RateLimiter, RateRule
from goftogu.settings import Settings
from goftogu.storage.work import UnitsOfWork


def build_identity(
    settings: Settings,
    work: UnitsOfWork,
    limiter: RateLimiter,
    revocations: SessionRevocations,
) -> tuple[Accounts, Authentication]:
    """Accounts (argon2id hashes at the configured cost) and authentication
    (tokens, sessions, rate-limited logins, as many hashing at once as
    ``GOFTOGU_ADMIT_LOGIN_*`` allow)."""
    hashes = PasswordHashes(
        memory_kib=settings.password_hash_memory_kib,
        time_cost=settings.password_hash_time_cost,
        parallelism=settings.password_hash_parallelism,
    )
    tokens = AccessTokens(settings.secret_key.get_secret_value(), settings.access_token_ttl_seconds)
    rules = AuthRules(
        login_per_ip=RateRule.parse("login-ip", settings.rate_login_per_ip),
        login_per_account=RateRule.parse("login-account", settings.rate_login_per_account),
        register_per_ip=RateRule.parse("register-ip", settings.rate_register_per_ip),
        visitor_per_ip=RateRule.parse("visitor-ip", settings.rate_visitor_per_ip),
    )
    auth = Authentication(
        work,
        hashes,
        tokens,
        limiter,
        rules,
        settings.refresh_token_ttl_seconds,
        revocations,
        gate=Gate("login", settings.admission("login")),
    )
    return Accounts(work.database, hashes), auth
