"""Every table of every domain, gathered on one metadata for Alembic and tests.

Domain packages define their tables on ``Base`` (``goftogu.storage.models``);
importing their ``models`` module here registers them. Add a domain's module
when it gains tables. It lives above the domains, not in ``storage``, which
knows no domain.
"""

from __future__ import annotations

import goftogu.identity.models
import goftogu.messaging.models
import goftogu.notifications.models
import goftogu.queueing.outbox
import goftogu.support.models
import goftogu.webhooks.models  # noqa: F401
from goftogu.storage.models import Base

metadata = Base.metadata
