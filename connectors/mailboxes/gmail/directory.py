"""The domain's users from the Admin SDK Directory API (`users.list`), for
`all_users: true`: every active user's primary address, suspended ones left out."""

from __future__ import annotations

from connectors.http import JsonApiClient
from connectors.mailboxes.tokens import TokenProvider

DIRECTORY_BASE_URL = "https://admin.googleapis.com"


def domain_users(
    tokens: TokenProvider, domain: str, base_url: str = DIRECTORY_BASE_URL
) -> list[str]:
    """Active users' primary addresses in `domain`, sorted (`tokens` act as an admin)."""
    client = JsonApiClient("Google Directory", base_url, token=tokens.token())
    users: list[str] = []
    token: str | None = None
    while True:
        params = {"domain": domain, "maxResults": 500, **({"pageToken": token} if token else {})}
        _, page = client.request("GET", "/admin/directory/v1/users", params=params)
        users += [u["primaryEmail"] for u in page.get("users", []) if not u.get("suspended")]
        token = page.get("nextPageToken")
        if not token:
            return sorted(users)
