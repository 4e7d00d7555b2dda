"""IMAP with OAuth 2.0 bearer tokens (XOAUTH2, OAUTHBEARER) against a real Dovecot whose
oauth2 passdb checks each token at the fake Google's introspection endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.errors import ConnectorError
from connectors.mailboxes.gmail.auth import GoogleTokens
from connectors.mailboxes.headers import MessageRecord
from connectors.mailboxes.imap import ImapLogin, ImapMailboxReader
from sandbox.fake_gmail import IMAP_SCOPE
from sandbox.gmail_serving import ServedGmail, served_gmail
from tests.dovecot import Dovecot, dovecot_binary
from tests.test_gmail_sync import mail

USERS = ["anna@agency.test", "bob@agency.test"]


@pytest.fixture(scope="module")
def google() -> Iterator[ServedGmail]:
    with served_gmail() as served:
        for user in USERS:
            served.state.mailbox(user)
        yield served


@pytest.fixture(scope="module")
def dovecot(google: ServedGmail) -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        pytest.fail("Dovecot is not installed: `make test` installs it (dovecot-imapd)")
    server = Dovecot(binary, USERS, introspection_url=f"{google.server.base_url}/introspect")
    for user in USERS:
        imap = server.client(user)  # filled over a password login, read over OAuth
        for n in range(3):
            imap.append("INBOX", None, None, mail(n, user))
        imap.logout()
    yield server
    server.stop()


def oauth_login(dovecot: Dovecot, google: ServedGmail, user: str, mechanism="auto"):
    tokens = GoogleTokens(user, google.key, scopes=(IMAP_SCOPE,))
    login = ImapLogin(
        "127.0.0.1", dovecot.port, user, use_ssl=False, tokens=tokens, mechanism=mechanism
    )
    return login, tokens


def read_inbox(login: ImapLogin, user: str) -> list:
    with ImapMailboxReader(login, mailbox=user) as reader:
        return [item for batch in reader.folder_batches("INBOX", None) for item in batch.items]


@pytest.mark.parametrize("mechanism", ["auto", "XOAUTH2", "OAUTHBEARER"])
def test_a_bearer_token_logs_in_and_reads_the_folder(dovecot, google, mechanism) -> None:
    login, tokens = oauth_login(dovecot, google, USERS[0], mechanism)
    items = read_inbox(login, USERS[0])
    assert [i.message_key for i in items if isinstance(i, MessageRecord)] == [
        f"m{n}@acme.test" for n in range(3)
    ]
    assert tokens.grants == 1


def test_an_expired_token_is_renewed_once(dovecot, google) -> None:
    login, tokens = oauth_login(dovecot, google, USERS[1])
    tokens.token()
    google.state.authority.expire_all()  # the cached token is dead; the client cannot tell
    assert len(read_inbox(login, USERS[1])) == 3
    assert tokens.grants == 2


def test_a_token_for_another_user_or_a_revoked_grant_is_a_clear_error(dovecot, google) -> None:
    login, _ = oauth_login(dovecot, google, USERS[0])
    other = GoogleTokens(USERS[1], google.key, scopes=(IMAP_SCOPE,))
    wrong = ImapLogin("127.0.0.1", dovecot.port, USERS[0], use_ssl=False, tokens=other)
    with pytest.raises(ConnectorError, match=f"{USERS[0]}.*cannot log in") as raised:
        read_inbox(wrong, USERS[0])
    assert not [t for t in google.state.authority.issued if t in str(raised.value)]

    google.state.suspend(USERS[0])
    google.state.authority.expire_all()
    with pytest.raises(ConnectorError, match=f"mailbox {USERS[0]}: .*invalid_grant"):
        read_inbox(login, USERS[0])


def test_a_server_without_oauth_says_so() -> None:
    binary = dovecot_binary()
    if binary is None:
        pytest.fail("Dovecot is not installed: `make test` installs it (dovecot-imapd)")
    server = Dovecot(binary, USERS)
    try:
        tokens = GoogleTokens(USERS[0], None)  # type: ignore[arg-type]  # never asked
        login = ImapLogin("127.0.0.1", server.port, USERS[0], use_ssl=False, tokens=tokens)
        with pytest.raises(ConnectorError, match=r"offers no OAuth mechanism .*PLAIN"):
            read_inbox(login, USERS[0])
    finally:
        server.stop()
